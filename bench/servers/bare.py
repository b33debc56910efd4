"""The Python ceiling for HTTP: a bare uvloop + httptools asyncio.Protocol.

Answers every request with a fixed 200 "Hello, World!" response, keep-alive
as the request asks. No routing, no headers object: nothing a framework does."""
from __future__ import annotations

import asyncio

import httptools
import uvloop

from bench.servers._common import parse_args, ready

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 13\r\n\r\nHello, World!")
RESPONSE_CLOSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                  b"Connection: close\r\nContent-Length: 13\r\n\r\nHello, World!")


class HttpProtocol(asyncio.Protocol):
    __slots__ = ("transport", "parser")

    def connection_made(self, transport):
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_message_complete(self):
        if self.parser.should_keep_alive():
            self.transport.write(RESPONSE)
        else:
            self.transport.write(RESPONSE_CLOSE)
            self.transport.close()


async def main(args):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(HttpProtocol, args.host, args.port, backlog=4096)
    ready(args.port)
    await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(parse_args()))
