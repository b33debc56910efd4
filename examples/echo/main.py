"""An echo WebSocket service on /echo (and "Hello" over HTTP on every other path).

Used by the Autobahn conformance run (docs/autobahn.md) and the benchmarks.
Run: python examples/echo/main.py [PORT]   (default 9001; 0 picks a free port)
"""

import os
import sys

from kitura.log import HeliumLogger, Log, LoggerMessageType
from kitura.net import HTTP, ListenerGroup, ServerDelegate
from kitura.websocket import WebSocket, WebSocketService


class EchoService(WebSocketService):
    def received_text(self, message, from_):
        from_.send(message=message)

    def received_binary(self, message, from_):
        from_.send(message=message)


class HelloDelegate(ServerDelegate):
    async def handle(self, request, response):
        response.headers["Content-Type"] = "text/plain"
        response.end("Hello, World!")


if __name__ == "__main__":
    HeliumLogger.use(LoggerMessageType.INFO)
    port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PORT", "9001"))
    # Autobahn sends messages up to 16 MiB; our default limit is exactly that.
    WebSocket.register(service=EchoService(), on_path="echo")
    WebSocket.register(service=EchoService(), on_path="/")
    server = HTTP.create_server()
    server.delegate = HelloDelegate()
    try:
        server.listen(on=port, address=os.environ.get("HOST", "127.0.0.1"))
        ListenerGroup.wait_for_listeners()
    except OSError as error:
        Log.error(f"Error listening on port {port}: {error}")
        sys.exit(1)
