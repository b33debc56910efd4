"""The soak test's server: keep-alive HTTP (hello, echo, /stats) and a WebSocket chat.

    python tests/soak/server.py

Prints "ready PORT" once listening on a free port of 127.0.0.1. /stats answers JSON: the chat's connected and
disconnected counts, the open connection count, this process's RSS and fd count.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from kitura.net import HTTP, ServerDelegate, ServerOptions  # noqa: E402
from kitura.websocket import WebSocket, WebSocketService  # noqa: E402


class Chat(WebSocketService):
    def __init__(self) -> None:
        self.members: set = set()
        self.connected_count = 0
        self.disconnected_count = 0

    def connected(self, connection):
        self.connected_count += 1
        self.members.add(connection)

    def disconnected(self, connection, reason):
        self.disconnected_count += 1
        self.members.discard(connection)

    def received_text(self, message, from_):
        for member in self.members:
            member.send(message=message)

    def received_binary(self, message, from_):
        from_.send(message=message)


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class App(ServerDelegate):
    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.server = None

    async def handle(self, request, response):
        if request.url == b"/stats":
            response.headers["Content-Type"] = "application/json"
            response.end(json.dumps({
                "connected": self.chat.connected_count, "disconnected": self.chat.disconnected_count,
                "connections": self.server.connection_count, "rss_kib": rss_kib(),
                "fds": len(os.listdir("/proc/self/fd")),
            }))
        elif request.method == "POST":
            body = bytearray()
            request.read_all_data(into=body)
            response.end(bytes(body))
        else:
            response.end("hello")


def main() -> None:
    chat = Chat()
    WebSocket.register(service=chat, on_path="/chat")
    app = App(chat)
    server = HTTP.create_server()
    app.server = server
    server.delegate = app
    server.options = ServerOptions(header_timeout=1.0, body_timeout=1.0, keep_alive_timeout=2.0, write_timeout=2.0)
    server.listen(on=0, address="127.0.0.1")
    print(f"ready {server.port}", flush=True)
    sys.stdin.read()  # runs until the test closes our stdin (or kills us)
    server.stop()


if __name__ == "__main__":
    main()
