"""Delivery batches: sends made while a connection delivers the events of one read are
written once per connection when the batch ends (WebSocketConnection.data_received)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from kitura.websocket import WebSocketCloseReasonCode, WebSocketService
from kitura.websocket import connection as connection_module
from kitura.websocket.connection import WebSocketConnection
from kitura.websocket.frames import OP_TEXT, FrameReader, encode_frame
from kitura.websocket.protocol import ServerProtocol
from kitura.websocket.registry import ServiceEntry

from .rawclient import client_frame, close_payload


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.fail_writes = False

    def write(self, data: bytes) -> None:
        if self.fail_writes:
            raise RuntimeError("broken transport")
        self.writes.append(bytes(data))

    def writelines(self, chunks) -> None:
        self.write(b"".join(chunks))

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def can_write_eof(self) -> bool:
        return False  # closed plainly, as a TLS transport is

    def get_extra_info(self, name, default=None):
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def frames(self) -> list[tuple[int, bytes]]:
        reader = FrameReader(require_mask=False)
        reader.feed(b"".join(self.writes))
        out = []
        while (frame := reader.next_frame()) is not None:
            out.append((frame.opcode, frame.payload))
        return out


class FakeHandover:
    def __init__(self, loop) -> None:
        self.request = None
        self.transport = FakeTransport()
        self.loop = loop
        self.loop_thread = threading.get_ident()

    def release(self) -> None:
        pass


class Chat(WebSocketService):
    """The tutorial's relay, with hooks for the tests."""

    def __init__(self) -> None:
        self.connections: dict[str, WebSocketConnection] = {}
        self.on_text = None

    def connected(self, connection):
        self.connections[connection.id] = connection

    def disconnected(self, connection, reason):
        self.connections.pop(connection.id, None)

    def received_text(self, message, from_):
        if self.on_text is not None and self.on_text(message, from_):
            return
        for connection_id, connection in list(self.connections.items()):
            if connection_id != from_.id:
                connection.send(message=message)


@pytest.fixture
def make():
    loop = asyncio.new_event_loop()

    def make_connection(entry: ServiceEntry) -> WebSocketConnection:
        connection = WebSocketConnection(entry, FakeHandover(loop), ServerProtocol())  # type: ignore[arg-type]
        connection.start()
        return connection

    yield make_connection
    loop.close()
    assert all(b.owner is None and not b.others for b in connection_module._batches.values())


def texts(n: int, prefix: str = "m") -> bytes:
    return b"".join(client_frame(1, f"{prefix}{i}".encode()) for i in range(n))


def chat_room(make, receivers: int, **options):
    """A Chat service, its sender and ``receivers`` receiving connections."""
    service = Chat()
    entry = ServiceEntry(service, "/chat", **options)
    return service, make(entry), [make(entry) for _ in range(receivers)]


def test_broadcast_in_one_read_is_one_write_per_receiver_in_order(make):
    entry = ServiceEntry(Chat(), "/chat")
    sender = make(entry)
    receivers = [make(entry) for _ in range(5)]
    sender.data_received(texts(16))
    for receiver in receivers:
        assert len(receiver._transport.writes) == 1
        assert receiver._transport.frames() == [(1, f"m{i}".encode()) for i in range(16)]
    assert sender._transport.writes == []
    # the next read is a new batch
    sender.data_received(texts(2, "n"))
    for receiver in receivers:
        assert len(receiver._transport.writes) == 2
        assert receiver._transport.frames()[16:] == [(1, b"n0"), (1, b"n1")]


def test_echo_in_one_read_is_one_write():
    class Echo(WebSocketService):
        def received_text(self, message, from_):
            from_.send(message=message)

    loop = asyncio.new_event_loop()
    try:
        connection = WebSocketConnection(ServiceEntry(Echo(), "/e"), FakeHandover(loop), ServerProtocol())  # type: ignore[arg-type]
        connection.start()
        connection.data_received(texts(3))
        assert len(connection._transport.writes) == 1
        assert connection._transport.frames() == [(1, b"m0"), (1, b"m1"), (1, b"m2")]
    finally:
        loop.close()


def test_sends_outside_a_batch_are_written_at_once(make):
    entry = ServiceEntry(Chat(), "/chat")
    a, b = make(entry), make(entry)
    b.send(message="one")
    b.send(message="two")
    assert b._transport.writes == [b"\x81\x03one", b"\x81\x03two"]
    assert not a._transport.writes


def test_a_callback_that_raises_does_not_strand_what_was_queued(make, caplog):
    service, sender, receivers = chat_room(make, 3)

    def on_text(message, from_):
        if message == "boom":
            raise RuntimeError("service bug")
        return False

    service.on_text = on_text
    sender.data_received(texts(2) + client_frame(1, b"boom") + texts(1, "after"))
    for receiver in receivers:
        assert len(receiver._transport.writes) == 1
        # the messages before the failing one arrived; the sender is closed with 1011
        assert receiver._transport.frames()[:2] == [(1, b"m0"), (1, b"m1")]
    assert sender._transport.frames()[-1] == (8, close_payload(1011))


def test_an_exception_escaping_the_delivery_still_flushes(make):
    class Escape(BaseException):
        pass

    service, sender, receivers = chat_room(make, 3)

    def on_text(message, from_):
        if message == "escape":
            raise Escape()
        return False

    service.on_text = on_text
    with pytest.raises(Escape):
        sender.data_received(texts(2) + client_frame(1, b"escape"))
    for receiver in receivers:
        assert receiver._transport.frames() == [(1, b"m0"), (1, b"m1")]
    # the next batch works
    service.on_text = None
    sender.data_received(texts(1, "x"))
    for receiver in receivers:
        assert receiver._transport.frames()[-1] == (1, b"x0")


def test_a_receiver_that_disconnects_mid_batch_does_not_break_the_others(make):
    service, sender, receivers = chat_room(make, 4)
    gone, dropped = receivers[1], receivers[2]

    def on_text(message, from_):
        if message == "m1":
            gone.connection_lost(ConnectionResetError())  # the peer vanished
        if message == "m2":
            dropped.drop(reason=WebSocketCloseReasonCode.GOING_AWAY)
        return False

    service.on_text = on_text
    sender.data_received(texts(4))
    for receiver in (receivers[0], receivers[3]):
        assert len(receiver._transport.writes) == 1
        assert receiver._transport.frames() == [(1, f"m{i}".encode()) for i in range(4)]
    # the lost one wrote nothing more; the dropped one got what came before its Close, in order
    assert gone._transport.writes == []
    assert gone._batched_bytes == 0
    assert dropped._transport.frames() == [(1, b"m0"), (1, b"m1"), (8, close_payload(1001))]
    assert dropped._transport.closed


def test_a_broken_transport_does_not_strand_the_others(make, caplog):
    entry = ServiceEntry(Chat(), "/chat")
    sender = make(entry)
    receivers = [make(entry) for _ in range(3)]
    receivers[0]._transport.fail_writes = True
    sender.data_received(texts(2))
    for receiver in receivers[1:]:
        assert receiver._transport.frames() == [(1, b"m0"), (1, b"m1")]
    assert "broken transport" in caplog.text


def test_close_after_queued_messages_goes_after_them(make):
    service, sender, (receiver,) = chat_room(make, 1)

    def on_text(message, from_):
        if message == "bye":
            receiver.close(reason=WebSocketCloseReasonCode.NORMAL, description="bye")
            return True
        return False

    service.on_text = on_text
    sender.data_received(texts(3) + client_frame(1, b"bye"))
    assert receiver._transport.frames() == [(1, b"m0"), (1, b"m1"), (1, b"m2"), (8, close_payload(1000, b"bye"))]
    assert len(receiver._transport.writes) == 1


def test_a_batch_never_exceeds_write_limit_before_it_is_written(make):
    _, sender, (receiver,) = chat_room(make, 1, write_limit=1000)
    payload = b"x" * 300
    sender.data_received(b"".join(client_frame(1, payload + str(i).encode()) for i in range(10)))
    writes = receiver._transport.writes
    assert len(writes) > 1
    assert all(len(w) <= 1000 + 310 for w in writes)  # written as soon as the batch passed the limit
    assert receiver._transport.frames() == [(1, payload + str(i).encode()) for i in range(10)]


def test_the_send_buffer_check_counts_queued_bytes(make, caplog):
    _, sender, (receiver,) = chat_room(make, 1, write_limit=64 * 1024, max_send_buffer=1000)
    payload = b"x" * 300
    sender.data_received(b"".join(client_frame(1, payload) for _ in range(5)))
    # 4 frames of 302 bytes pass 1000 queued bytes: the 5th send closes with 1008
    frames = receiver._transport.frames()
    assert frames[:4] == [(1, payload)] * 4
    assert frames[4] == (8, close_payload(1008, b"send buffer full"))
    assert "max_send_buffer=1000" in caplog.text


def test_sends_from_another_thread_are_not_batched(make):
    entry = ServiceEntry(Chat(), "/chat")
    a = make(entry)
    scheduled = []

    class Loop:
        def call_soon_threadsafe(self, fn, *args):
            scheduled.append((fn, args))

    a.loop = Loop()  # type: ignore[assignment]
    done = threading.Event()
    threading.Thread(target=lambda: (a.send(message="hi"), done.set())).start()
    assert done.wait(5)
    assert a._transport.writes == [] and len(scheduled) == 1
    fn, args = scheduled[0]
    fn(*args)
    assert a._transport.writes == [b"\x81\x02hi"]


def test_an_exception_escaping_a_flush_still_ends_the_batch(make):
    class Escape(BaseException):
        pass

    entry = ServiceEntry(Chat(), "/chat")
    sender = make(entry)
    receivers = [make(entry) for _ in range(2)]

    def escape(data):
        raise Escape()

    receivers[0]._transport.write = escape
    receivers[0]._transport.writelines = escape
    with pytest.raises(Escape):
        sender.data_received(texts(2))
    batch = connection_module._batches.get(sender.loop_thread)
    assert batch is None or (batch.owner is None and not batch.others)
    # the next read is a batch of its own again, and is flushed; what the escape
    # stranded goes out first, in order
    del receivers[0]._transport.write, receivers[0]._transport.writelines
    sender.data_received(texts(1, "x"))
    assert receivers[1]._transport.frames() == [(1, b"m0"), (1, b"m1"), (1, b"x0")]
    assert receivers[0]._transport.frames() == [(1, b"x0")]  # its write raised: those were taken


# send(message=str) runs send_encoded's text path inline on the loop thread (connections
# without compression): these scenarios run through both and must write the same bytes.
SENDS = {
    "send": lambda connection, text: connection.send(message=text),
    "send_encoded": lambda connection, text: connection.send_encoded(OP_TEXT, text),
}


class Relay(WebSocketService):
    """Echoes each text (twice when it starts with "2") and relays it to the others, with ``send_fn``."""

    def __init__(self, send_fn) -> None:
        self.send_fn = send_fn
        self.connections: list[WebSocketConnection] = []

    def connected(self, connection):
        self.connections.append(connection)

    def disconnected(self, connection, reason):
        self.connections.remove(connection)

    def received_text(self, message, from_):
        self.send_fn(from_, message)
        if message.startswith("2"):
            self.send_fn(from_, message)
        for connection in list(self.connections):
            if connection is not from_:
                self.send_fn(connection, message)


def _scenario(make, send_fn, caplog, **options):
    caplog.clear()
    service = Relay(send_fn)
    entry = ServiceEntry(service, "/relay", **options)
    a, b, c = make(entry), make(entry), make(entry)
    send_fn(a, "outside a batch")  # written at once
    send_fn(a, "outside a batch")  # the same str: the cached frame
    a.data_received(texts(3) + client_frame(1, b"2twice") + client_frame(1, "é".encode() * 200))
    b.data_received(b"".join(client_frame(1, b"y" * 300 + str(i).encode()) for i in range(8)))
    c._transport.closed = True
    c.transport_closed = True  # nothing more is sent to c
    a.data_received(client_frame(1, b"after c closed"))
    return [(connection._transport.writes, connection._transport.closed, connection._batched_bytes)
            for connection in (a, b, c)], caplog.text.count("max_send_buffer=")


@pytest.mark.parametrize("options", [
    {},
    {"write_limit": 700},  # batches written as they pass the limit
    {"write_limit": 64 * 1024, "max_send_buffer": 1500},  # the relay closes slow receivers with 1008
])
def test_send_of_a_str_does_what_send_encoded_does(make, caplog, options):
    results = [_scenario(make, send_fn, caplog, **options) for send_fn in SENDS.values()]
    assert results[0] == results[1]
    (a_writes, _, _), (b_writes, b_closed, _), _ = results[0][0]
    assert a_writes[:2] == [encode_frame(OP_TEXT, b"outside a batch")] * 2
    if "max_send_buffer" in options:
        assert results[0][1] > 0 and b_closed  # the scenario reached the check
    elif "write_limit" in options:
        assert len(b_writes) > 1  # b's echoes passed the limit: written in parts
