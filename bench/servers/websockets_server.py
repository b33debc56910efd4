"""python-websockets (asyncio implementation) on uvloop: echo on /echo, chat on /chat.

Defaults except keepalive pings (ping_interval=None, as the other servers do not
ping) and max_size raised to 16 MiB; permessage-deflate is on by default."""
from __future__ import annotations

import asyncio

import uvloop
from websockets.asyncio.server import broadcast, serve

from bench.servers._common import parse_args, ready

CHAT: set = set()


async def handler(ws):
    path = ws.request.path
    if path == "/echo":
        async for message in ws:
            await ws.send(message)
    elif path == "/chat":
        CHAT.add(ws)
        try:
            async for message in ws:
                if isinstance(message, str):
                    broadcast([c for c in CHAT if c is not ws], message)
                else:
                    await ws.close(1003, "Chat-Server only accepts text messages")
        finally:
            CHAT.discard(ws)
    else:
        await ws.close(1008, "unknown path")


async def main(args):
    async with serve(handler, args.host, args.port, ping_interval=None,
                     max_size=16 * 1024 * 1024, backlog=4096) as server:
        ready(args.port)
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(parse_args()))
