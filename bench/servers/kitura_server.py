"""Ours: Kitura for Python, through the public API only (see API.md).

Modes:
  async   an ``async def handle`` ServerDelegate (runs on the event loop)
  sync    a plain ``def handle`` ServerDelegate (runs on the worker threads)
  router  a ``kitura.Router`` with one ``router.get("/")`` handler
In every mode the echo service is registered on /echo and the tutorial's
ChatService (examples/chat/chat_service.py) on /chat, on the same port (permessage-deflate is on by default
and used when the client offers it)."""
from __future__ import annotations

from bench.servers._common import HELLO_STR, parse_args, ready


def tutorial_chat_service():
    """The ChatService of the tutorial, as shipped in examples/chat/chat_service.py."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "chat" / "chat_service.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("bench_tutorial_chat_service", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ChatService


def build_services():
    try:
        from kitura.websocket import WebSocket, WebSocketCloseReasonCode, WebSocketService
    except ImportError as e:   # kitura.websocket's glue not there yet: HTTP only
        import sys
        print(f"kitura_server: no WebSocket services ({e})", file=sys.stderr)
        return

    class EchoService(WebSocketService):
        connection_timeout = None

        def received_text(self, message, from_):
            from_.send(message=message)

        def received_binary(self, message, from_):
            from_.send(message=message)

    ChatService = tutorial_chat_service()
    if ChatService is None:
        class ChatService(WebSocketService):
            """Kitura-WebSocket's README ChatService (used when examples/chat is absent)."""

            def __init__(self):
                self.connections = {}

            def connected(self, connection):
                self.connections[connection.id] = connection

            def disconnected(self, connection, reason):
                self.connections.pop(connection.id, None)

            def received_binary(self, message, from_):
                from_.close(reason=WebSocketCloseReasonCode.INVALID_DATA_TYPE,
                            description="Chat-Server only accepts text messages")
                self.connections.pop(from_.id, None)

            def received_text(self, message, from_):
                for connection_id, connection in list(self.connections.items()):
                    if connection_id != from_.id:
                        connection.send(message=message)

    WebSocket.register(service=EchoService(), on_path="echo")
    WebSocket.register(service=ChatService(), on_path="chat")


def build_delegate(mode):
    from kitura.net import HTTPStatusCode, ServerDelegate

    if mode == "async":
        class Hello(ServerDelegate):
            async def handle(self, request, response):
                response.status_code = HTTPStatusCode.OK
                response.headers["Content-Type"] = "text/plain"
                response.write(from_=HELLO_STR)
                response.end()
        return Hello()
    if mode == "sync":
        class Hello(ServerDelegate):
            def handle(self, request, response):
                response.status_code = HTTPStatusCode.OK
                response.headers["Content-Type"] = "text/plain"
                response.write(from_=HELLO_STR)
                response.end()
        return Hello()
    from kitura import Router

    router = Router()

    @router.get("/")
    def hello(request, response, next):
        response.send(HELLO_STR)
        next()

    return router


def main():
    args = parse_args(("async", "sync", "router"))
    from kitura.net import HTTP, ListenerGroup, ServerOptions

    build_services()
    server = HTTP.create_server()
    server.delegate = build_delegate(args.mode)   # Kitura's Router is a ServerDelegate
    # The idle-memory case opens 10,000 connections: Kitura's default limit is exactly 10,000.
    server.options = ServerOptions(connection_limit=50_000)
    server.listen(on=args.port, address=args.host)
    ready(server.port)
    ListenerGroup.wait_for_listeners()


if __name__ == "__main__":
    main()
