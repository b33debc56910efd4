"""uvicorn (httptools + uvloop) with a minimal ASGI app: HTTP hello only."""
from __future__ import annotations

import uvicorn

from bench.servers._common import parse_args, ready

BODY = b"Hello, World!"
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
}
BODY_MSG = {"type": "http.response.body", "body": BODY}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send(START)
    await send(BODY_MSG)


if __name__ == "__main__":
    args = parse_args()
    config = uvicorn.Config(app, host=args.host, port=args.port, loop="uvloop", http="httptools",
                            ws="none", lifespan="off", log_level="warning", access_log=False,
                            timeout_keep_alive=300, backlog=4096)
    server = uvicorn.Server(config)
    # uvicorn prints nothing at log_level=warning; the harness polls the port.
    ready(args.port)
    server.run()
