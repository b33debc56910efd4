"""The tutorial's chat on a Room, from one process to N workers to several servers.

    python examples/chat-scaled/main.py                                   # one process, port 8080
    python examples/chat-scaled/main.py --workers 2 --redis redis://localhost:6379/0
    python examples/chat-scaled/main.py --port 8080 --redis redis://localhost:6379/0   # server 1
    python examples/chat-scaled/main.py --port 8081 --redis redis://localhost:6379/0   # server 2

The PORT, WORKERS and REDIS_URL environment variables give the defaults. Clients are
the tutorial's: `node examples/chat/client/chat.js localhost:8080`.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kitura.log import HeliumLogger, Log, LoggerMessageType  # noqa: E402
from kitura.net import HTTP, ListenerGroup, ServerDelegate, ServerRequest, ServerResponse  # noqa: E402
from kitura.websocket import RedisPubSub, Room, WebSocket  # noqa: E402

from chat_service import ChatService  # noqa: E402


class ChatServerDelegate(ServerDelegate):
    def handle(self, request: ServerRequest, response: ServerResponse) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--workers", default=os.environ.get("WORKERS", "1"), help="a number, or 'auto'")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL"), help="redis://host:port/db")
    args = parser.parse_args()
    workers = args.workers if args.workers == "auto" else int(args.workers)

    HeliumLogger.use(LoggerMessageType.INFO)
    if args.redis:
        Room.default_backend = RedisPubSub(args.redis)
    elif workers != 1:
        parser.error("--workers needs --redis: each worker process has its own members")

    WebSocket.register(service=ChatService(Room("chat")), on_path="chat")

    server = HTTP.create_server()
    server.delegate = ChatServerDelegate()
    # With workers, each has its own SO_REUSEPORT socket: the kernel spreads the
    # (long-lived) WebSocket connections evenly, also on a busy machine (docs/scaling.md).
    server.allow_port_reuse = True
    try:
        server.listen(on=args.port)
        ListenerGroup.wait_for_listeners(workers=workers)
    except OSError as error:
        Log.error(f"Error listening on port {args.port}: {error}.")
        sys.exit(1)


if __name__ == "__main__":
    main()
