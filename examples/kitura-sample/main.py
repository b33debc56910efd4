"""Run the sample: ``python examples/kitura-sample/main.py [--port 8080]``, then open http://localhost:8080/."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kitura.log import HeliumLogger, LoggerMessageType  # noqa: E402
from kitura.websocket import WebSocket  # noqa: E402

from application import App  # noqa: E402
from chat_service import ChatService  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Kitura-Sample for Python")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--address", default=None, help="address to listen on (default: every interface)")
    args = parser.parse_args(argv)
    HeliumLogger.use(LoggerMessageType.INFO)
    WebSocket.register(service=ChatService(), on_path="kitura-chat")
    App().run(port=args.port, address=args.address)


if __name__ == "__main__":
    main()
