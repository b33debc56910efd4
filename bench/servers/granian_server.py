"""granian (Rust, hyper + tokio) with an RSGI app: HTTP hello on /, echo on
/echo, chat on /chat.

One process: granian's embeddable server (``granian.server.embed``) runs one
RSGI worker on this process's uvloop loop with one Rust runtime thread, so the
harness's CPU and memory accounting (which reads the server's pid) sees all of
it; the `granian` command line would put the worker in a child process.

RSGI WebSocket sends are coroutines: the chat awaits the sends of one message
to every receiver together (``asyncio.gather``; one after the other is about
half as fast), which is as far as the interface goes (no shared frame, no
batch). granian sends the close frame of ``protocol.close(1003)`` without its
status code (the client sees 1005): the chat's refusal of a binary message
closes the connection all the same. ``backpressure`` (granian's cap on the
connections a worker serves at once, the backlog by default) is raised above
the 10,000 of the idle-memory cases, which it otherwise closed."""
from __future__ import annotations

import asyncio

import uvloop
from granian.constants import Interfaces
from granian.rsgi import WebsocketMessageType
from granian.server.embed import Server

from bench.servers._common import HELLO, parse_args, ready

HEADERS = [("content-type", "text/plain")]
CHAT_ONLY_TEXT = 1003
CLOSE = WebsocketMessageType.close
TEXT = WebsocketMessageType.string


class App:
    def __init__(self):
        self.chat: set = set()

    async def __rsgi__(self, scope, protocol):
        if scope.proto == "http":
            if scope.path == "/":
                protocol.response_bytes(200, HEADERS, HELLO)
            else:
                protocol.response_empty(404, [])
            return
        path = scope.path
        if path == "/echo":
            await self.echo(protocol)
        elif path == "/chat":
            await self.chat_session(protocol)
        else:
            protocol.close(1008)

    async def echo(self, protocol):
        transport = await protocol.accept()
        receive, send_str, send_bytes = transport.receive, transport.send_str, transport.send_bytes
        while True:
            msg = await receive()
            if msg.kind == CLOSE:
                break
            await (send_str if msg.kind == TEXT else send_bytes)(msg.data)
        protocol.close(1000)

    async def chat_session(self, protocol):
        transport = await protocol.accept()
        chat = self.chat
        chat.add(transport)
        status = 1000
        try:
            while True:
                msg = await transport.receive()
                if msg.kind == CLOSE:
                    break
                if msg.kind != TEXT:
                    status = CHAT_ONLY_TEXT
                    break
                data = msg.data
                others = [other for other in chat if other is not transport]
                results = await asyncio.gather(*[other.send_str(data) for other in others],
                                               return_exceptions=True)
                for other, result in zip(others, results):
                    if isinstance(result, Exception):     # a receiver that went away
                        chat.discard(other)
        finally:
            chat.discard(transport)
        protocol.close(status)


async def main(args):
    server = Server(App(), address=args.host, port=args.port, interface=Interfaces.RSGI,
                    runtime_threads=1, backlog=4096, backpressure=65536, log_enabled=False,
                    websockets=True)
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, ready, args.port)
    await server.serve()


if __name__ == "__main__":
    uvloop.run(main(parse_args()))
