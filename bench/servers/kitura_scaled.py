"""Ours, scaled out (bench/scaling.py): ``ListenerGroup.wait_for_listeners(workers=N)``.

    python -m bench.servers.kitura_scaled --port P [--workers N] [--redis URL] [--reuse-port]

Serves the HTTP hello (an ``async def`` delegate), the tutorial's chat written on a
Room at /chat (examples/chat-scaled/chat_service.py; through Redis with ``--redis``),
and /pid, a WebSocket path that sends the serving process's pid on connect (how the
spread of connections over the workers is counted). Unlike the other server scripts it
does not exit at once on SIGTERM: the supervisor drains its workers.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib

from bench.servers._common import raise_nofile, ready
from bench.servers.kitura_server import build_delegate


def room_chat_service():
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "chat-scaled" / "chat_service.py"
    spec = importlib.util.spec_from_file_location("bench_scaled_chat_service", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ChatService


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--redis", default=None)
    p.add_argument("--reuse-port", action="store_true")
    args = p.parse_args()
    raise_nofile()

    from kitura.net import HTTP, ListenerGroup, ServerOptions
    from kitura.websocket import RedisPubSub, Room, WebSocket, WebSocketService

    class Pid(WebSocketService):
        connection_timeout = None

        def connected(self, connection):
            connection.send(str(os.getpid()))

    if args.redis:
        Room.default_backend = RedisPubSub(args.redis)
    ChatService = room_chat_service()
    ChatService.connection_timeout = None
    WebSocket.register(service=ChatService(Room("chat")), on_path="chat")
    WebSocket.register(service=Pid(), on_path="pid")
    server = HTTP.create_server()
    server.delegate = build_delegate("async")  # the same hello as kitura-async
    server.options = ServerOptions(connection_limit=50_000, shutdown_timeout=2.0)
    server.allow_port_reuse = args.reuse_port
    server.listen(on=args.port, address=args.host)
    ready(server.port)
    ListenerGroup.wait_for_listeners(workers=args.workers)


if __name__ == "__main__":
    main()
