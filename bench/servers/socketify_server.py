"""socketify (Python bindings of uWebSockets, C++): HTTP hello on /, echo on
/echo, chat on /chat, one process on socketify's own libuv loop.

The chat is uWebSockets' own way of broadcasting: every /chat connection is
subscribed to one topic and a text message is published from the sender's
socket (``uws_ws_publish``), which frames the message once, sends it to every
other subscriber and leaves the sender out, as the tutorial's ChatService
does. socketify's ``WebSocket.publish`` goes through the app and includes the
sender, so the native call is used here. Compression is off (``ws`` role
only); the payload limit and the back-pressure limit are raised so that 64 KiB
echoes and 200-receiver broadcasts are never dropped."""
from __future__ import annotations

from socketify import App, CompressOptions, OpCode
from socketify.native import lib

from bench.servers._common import HELLO, parse_args, ready

TOPIC = b"chat"
CHAT_ONLY_TEXT = "Chat-Server only accepts text messages"
LIMITS = {
    "compression": CompressOptions.DISABLED,
    "max_payload_length": 16 * 1024 * 1024,
    "max_backpressure": 64 * 1024 * 1024,
    "idle_timeout": 0,            # never close an idle connection (the memory case holds them)
}


def hello(res, req):
    res.write_header("Content-Type", "text/plain")
    res.end(HELLO)


def echo(ws, message, opcode):
    ws.send(message, opcode)


def chat_open(ws):
    ws.subscribe(TOPIC)


def chat_message(ws, message, opcode):
    if opcode == OpCode.TEXT:
        data = message.encode()
        lib.uws_ws_publish_with_options(ws.app.SSL, ws.ws, TOPIC, len(TOPIC), data, len(data),
                                        int(OpCode.TEXT), False)
    else:
        ws.end(1003, CHAT_ONLY_TEXT)


def main():
    args = parse_args()
    app = App()
    app.get("/", hello)
    app.ws("/echo", dict(LIMITS, message=echo))
    app.ws("/chat", dict(LIMITS, open=chat_open, message=chat_message))

    def listening(config):
        ready(args.port)

    app.listen({"port": args.port, "host": args.host}, listening)
    app.run()


if __name__ == "__main__":
    main()
