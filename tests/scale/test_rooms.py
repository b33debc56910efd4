"""Rooms: join, leave, send to every member (optionally excluding one), in-process and
through a real redis-server."""

from __future__ import annotations

import gc
import time
import weakref
from contextlib import ExitStack
from typing import Callable, Iterator

import pytest
from websockets.sync.client import connect

from kitura.net import HTTP, HTTPServer, ServerDelegate
from kitura.websocket import InProcessPubSub, RedisPubSub, Room, WebSocket, WebSocketService


class RoomService(WebSocketService):
    """Everyone who connects joins the room; a message goes to everyone else in it."""

    def __init__(self, room: Room) -> None:
        super().__init__()
        self.room = room

    def connected(self, connection):
        self.room.join(connection)

    def disconnected(self, connection, reason):
        self.room.leave(connection)

    def received_text(self, message, from_):
        if message == "count":
            from_.send(str(len(self.room.members)))
        else:
            self.room.send(message, excluding=from_)

    def received_binary(self, message, from_):
        self.room.send(message)  # the sender too


class Nothing(ServerDelegate):
    def handle(self, request, response):
        response.end("")


@pytest.fixture
def backends(redis_server) -> Iterator[Callable[..., RedisPubSub]]:
    """backends(**options) makes a RedisPubSub on the test's redis-server; all are closed after."""
    made: list[RedisPubSub] = []

    def make(**options) -> RedisPubSub:
        made.append(RedisPubSub(redis_server.url, **options))
        return made[-1]

    try:
        yield make
    finally:
        for backend in made:
            backend.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., int]]:
    """serve(path, room) registers a RoomService; returns the port of one server for all."""
    server: HTTPServer = HTTP.create_server()
    server.delegate = Nothing()
    server.listen(on=0, address="127.0.0.1")
    paths: list[str] = []

    def add(path: str, room: Room) -> int:
        WebSocket.register(service=RoomService(room), on_path=path)
        paths.append(path)
        return server.port  # type: ignore[return-value]

    try:
        yield add
    finally:
        server.stop()
        for path in paths:
            WebSocket.unregister(path)


def _quiet(ws, timeout: float = 0.3) -> bool:
    try:
        ws.recv(timeout=timeout)
    except TimeoutError:
        return True
    return False


def _joined(ws, count: int) -> None:
    """Wait until the room has ``count`` members (the join runs in ``connected``)."""
    for _ in range(100):
        ws.send("count")
        if ws.recv(timeout=10) == str(count):
            return
        time.sleep(0.02)
    raise AssertionError(f"the room never had {count} members")


def test_send_reaches_every_member_but_the_excluded(serve) -> None:
    port = serve("room-a", Room("a", backend=InProcessPubSub()))
    with ExitStack() as stack:
        a, b, c = (stack.enter_context(connect(f"ws://127.0.0.1:{port}/room-a", open_timeout=10)) for _ in range(3))
        _joined(a, 3)
        a.send("hello")
        assert b.recv(timeout=10) == "hello"
        assert c.recv(timeout=10) == "hello"
        assert _quiet(a)
        b.send(b"\x00\x01bin")
        for ws in (a, b, c):
            assert ws.recv(timeout=10) == b"\x00\x01bin"
        c.close()
        _joined(a, 2)
        a.send("after")
        assert b.recv(timeout=10) == "after"


def test_rooms_of_one_name_share_in_process(serve) -> None:
    backend = InProcessPubSub()
    port = serve("room-b1", Room("b", backend=backend))
    serve("room-b2", Room("b", backend=backend))
    with connect(f"ws://127.0.0.1:{port}/room-b1") as one, connect(f"ws://127.0.0.1:{port}/room-b2") as two:
        _joined(one, 1)
        _joined(two, 1)
        one.send("across")
        assert two.recv(timeout=10) == "across"
        assert _quiet(one)


def test_room_api_from_code() -> None:
    room = Room("api", backend=InProcessPubSub())
    assert room.members == [] and len(room) == 0 and room.name == "api"
    room.send("nobody listens")  # no members: nothing happens, no error
    with pytest.raises(ValueError, match="non-empty str"):
        Room("")
    with pytest.raises(TypeError, match="str or bytes"):
        room.send(42)  # type: ignore[arg-type]


def _wait_subscribed(*backends: RedisPubSub, room: str) -> None:
    deadline = time.monotonic() + 10
    while not all(b.subscribed(room) for b in backends):
        assert time.monotonic() < deadline, "the backends did not subscribe"
        time.sleep(0.02)
    time.sleep(0.1)  # SUBSCRIBE is processed by Redis in order; give it the round trip


def _rooms_across_redis(stack: ExitStack, serve, backends, name: str, **options):
    """Room ``name`` twice, each with its own RedisPubSub (two origins, as two processes
    have): clients a1 and b1 in the first, a2 in the second, all subscribed."""
    one_backend, two_backend = backends(**options), backends(**options)
    port = serve(f"room-{name}1", Room(name, backend=one_backend))
    serve(f"room-{name}2", Room(name, backend=two_backend))
    a1, b1 = (stack.enter_context(connect(f"ws://127.0.0.1:{port}/room-{name}1")) for _ in range(2))
    a2 = stack.enter_context(connect(f"ws://127.0.0.1:{port}/room-{name}2"))
    _joined(a1, 2)
    _joined(a2, 1)
    _wait_subscribed(one_backend, two_backend, room=name)
    return one_backend, two_backend, a1, b1, a2


def test_redis_carries_sends_between_backends(serve, backends) -> None:
    with ExitStack() as stack:
        one_backend, two_backend, a1, b1, a2 = _rooms_across_redis(stack, serve, backends, "r")
        a1.send("via redis")
        assert b1.recv(timeout=10) == "via redis"  # local, at once
        assert a2.recv(timeout=10) == "via redis"  # through Redis
        assert _quiet(b1) and _quiet(a1)  # the origin's own copy is not delivered twice
        a2.send(b"\xffbinary")
        for ws in (a1, b1, a2):
            assert ws.recv(timeout=10) == b"\xffbinary"
        assert one_backend.received == 1 and two_backend.received == 1
        assert one_backend.lost == two_backend.lost == 0


def test_redis_down_local_delivery_goes_on_and_resumes(serve, backends, redis_server) -> None:
    with ExitStack() as stack:
        one_backend, two_backend, a1, b1, a2 = _rooms_across_redis(stack, serve, backends, "d",
                                                                   max_reconnect_delay=0.2)
        redis_server.stop()
        deadline = time.monotonic() + 10
        while one_backend.connected:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        a1.send("while down")
        assert b1.recv(timeout=10) == "while down"  # local delivery goes on
        deadline = time.monotonic() + 10
        while one_backend.lost == 0:
            assert time.monotonic() < deadline, "the lost send was not counted"
            time.sleep(0.02)
        assert _quiet(a2)
        redis_server.start()
        _wait_subscribed(one_backend, two_backend, room="d")
        assert one_backend.reconnects >= 1
        a1.send("back")
        assert b1.recv(timeout=10) == "back"
        assert a2.recv(timeout=10) == "back"


def test_send_from_another_thread_is_one_batch_on_the_loop(serve) -> None:
    """A send off the loop (a plain def route, a background job) reaches every member."""
    room = Room("t", backend=InProcessPubSub())
    port = serve("room-t", room)
    with ExitStack() as stack:
        clients = [stack.enter_context(connect(f"ws://127.0.0.1:{port}/room-t")) for _ in range(5)]
        _joined(clients[0], 5)
        for n in range(3):
            room.send(f"from a thread {n}")
        room.send(model={"n": 3})
        for ws in clients:
            assert [ws.recv(timeout=10) for _ in range(4)] == [
                "from a thread 0", "from a thread 1", "from a thread 2", '{"n":3}']


def test_dropped_rooms_are_released_by_their_backend() -> None:
    """A backend holds its rooms weakly: rooms made and dropped (one per user, say) go,
    and so does their name in the backend."""
    backend = InProcessPubSub()
    kept = Room("user-kept", backend=backend)
    kept.send("attach")
    refs = []
    for i in range(1000):
        room = Room(f"user-{i}", backend=backend)
        room.send("attach")
        refs.append(weakref.ref(room))
    del room
    gc.collect()
    assert sum(ref() is not None for ref in refs) == 0
    assert list(backend._rooms.by_name) == ["user-kept"]
    other = Room("user-kept", backend=backend)
    other.send("attach")
    assert len(backend._rooms.get("user-kept")) == 2


class StayService(RoomService):
    """Joins in ``connected``, never leaves: closing must take the member out."""

    def disconnected(self, connection, reason):
        pass


def test_a_closed_member_leaves_its_room_without_a_send(serve) -> None:
    room = Room("quiet", backend=InProcessPubSub())
    WebSocket.register(service=StayService(room), on_path="room-quiet")
    try:
        port = serve("room-quiet-2", Room("unused", backend=InProcessPubSub()))
        with connect(f"ws://127.0.0.1:{port}/room-quiet") as stays:
            with connect(f"ws://127.0.0.1:{port}/room-quiet") as goes:
                _joined(goes, 2)
            deadline = time.monotonic() + 10
            while len(room) != 1:
                assert time.monotonic() < deadline, "the closed connection stayed in the room"
                time.sleep(0.02)
            assert stays.id is not None
    finally:
        WebSocket.unregister("room-quiet")


def test_a_room_held_only_by_its_members_lives_on(serve) -> None:
    """``Room(name).join(connection)`` without keeping the room: the members keep it."""

    class JoinByName(RoomService):
        def connected(self, connection):
            Room("by-name", backend=backend).join(connection)

    backend = InProcessPubSub()
    WebSocket.register(service=JoinByName(Room("unused")), on_path="room-by-name")
    try:
        port = serve("room-by-name-2", Room("unused2", backend=InProcessPubSub()))
        with connect(f"ws://127.0.0.1:{port}/room-by-name") as ws:
            deadline = time.monotonic() + 10
            while not backend._rooms.get("by-name"):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            gc.collect()
            Room("by-name", backend=backend).send("hello")
            assert ws.recv(timeout=10) == "hello"
    finally:
        WebSocket.unregister("room-by-name")


def test_redis_unsubscribes_when_the_last_room_of_a_name_goes(serve, backends, redis_server) -> None:
    import redis

    serve("room-unsub", Room("unused3", backend=InProcessPubSub()))  # a running server loop
    backend = backends()
    room = Room("unsub", backend=backend)
    room.send("attach")
    _wait_subscribed(backend, room="unsub")
    client = redis.Redis.from_url(redis_server.url)
    try:
        assert client.pubsub_numsub(backend.channel_prefix + "unsub")[0][1] == 1
        del room
        gc.collect()
        deadline = time.monotonic() + 10
        while backend.subscribed("unsub") or client.pubsub_numsub(backend.channel_prefix + "unsub")[0][1]:
            assert time.monotonic() < deadline, "the channel of a dropped room stayed subscribed"
            time.sleep(0.02)
        again = Room("unsub", backend=backend)
        again.send("attach")
        _wait_subscribed(backend, room="unsub")
    finally:
        client.close()


def test_a_message_that_cannot_be_delivered_is_lost_not_the_reader(serve, backends, redis_server) -> None:
    """Text that is not UTF-8 on a room's channel (another program, another version) is
    counted as lost; the reader goes on delivering what comes next."""
    import redis

    backend = backends()
    port = serve("room-bad", Room("bad", backend=backend))
    with connect(f"ws://127.0.0.1:{port}/room-bad") as ws:
        _joined(ws, 1)
        _wait_subscribed(backend, room="bad")
        client = redis.Redis.from_url(redis_server.url)
        try:
            head = b"K" + b"\x01" * 16  # another process's origin
            client.publish(backend.channel_prefix + "bad", head + b"t\xff\xfe not UTF-8")
            client.publish(backend.channel_prefix + "bad", head + b"tstill delivered")
        finally:
            client.close()
        assert ws.recv(timeout=10) == "still delivered"
        assert backend.lost == 1 and backend.received == 1 and backend.connected
