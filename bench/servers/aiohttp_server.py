"""aiohttp on uvloop: HTTP hello on /, WebSocket echo on /echo, chat on /chat.

permessage-deflate is aiohttp's default (compress=True): used when the client offers it."""
from __future__ import annotations

import asyncio

import uvloop
from aiohttp import WSMsgType, web

from bench.servers._common import parse_args, ready

CHAT: set = set()


async def hello(request):
    return web.Response(text="Hello, World!")


async def echo(request):
    ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def chat(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    CHAT.add(ws)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                for other in list(CHAT):
                    if other is not ws:
                        await other.send_str(msg.data)
            else:
                await ws.close(code=1003, message=b"Chat-Server only accepts text messages")
    finally:
        CHAT.discard(ws)
    return ws


async def main(args):
    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/echo", echo)
    app.router.add_get("/chat", chat)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, backlog=4096)
    await site.start()
    ready(args.port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    uvloop.run(main(parse_args()))
