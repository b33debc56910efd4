"""picows (Cython) server on uvloop: echo on /echo, chat on /chat.

picows works on frames and has no permessage-deflate; the clients of this
harness send every message as one frame, so echoing a frame echoes the message."""
from __future__ import annotations

import uvloop
from picows import WSCloseCode, WSListener, WSMsgType, ws_create_server

from bench.servers._common import parse_args, ready

CHAT: set = set()


class Echo(WSListener):
    def on_ws_frame(self, transport, frame):
        t = frame.msg_type
        if t == WSMsgType.TEXT or t == WSMsgType.BINARY or t == WSMsgType.CONTINUATION:
            transport.send(t, frame.get_payload_as_memoryview(), frame.fin)
        elif t == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()


class Chat(WSListener):
    def on_ws_connected(self, transport):
        CHAT.add(transport)

    def on_ws_disconnected(self, transport):
        CHAT.discard(transport)

    def on_ws_frame(self, transport, frame):
        t = frame.msg_type
        if t == WSMsgType.TEXT:
            payload = frame.get_payload_as_bytes()
            for other in CHAT:
                if other is not transport:
                    other.send(WSMsgType.TEXT, payload)
        elif t == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        elif t == WSMsgType.BINARY:
            transport.send_close(WSCloseCode.UNSUPPORTED_DATA, b"Chat-Server only accepts text messages")
            transport.disconnect()


def factory(request):
    path = request.path.split(b"?", 1)[0]
    if path == b"/echo":
        return Echo()
    if path == b"/chat":
        return Chat()
    return None


async def main(args):
    server = await ws_create_server(factory, args.host, args.port, backlog=4096,
                                    max_frame_size=16 * 1024 * 1024)
    ready(args.port)
    await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(parse_args()))
