"""``Room``: a named group of WebSocket connections that a message is sent to at once.

Beyond Kitura (which leaves groups to the service, as the tutorial's chat keeps a dict
of connections): ``join``, ``leave``, ``send`` to every member (text or binary,
optionally excluding one, e.g. the sender), ``members`` (those of this process).

A send is delivered to this process's members at once, through the same path as a
service's own sends (a text message is framed once for all uncompressed members; sends
made while a read is delivered are written once per connection), and handed to the
room's pub/sub backend (``kitura.websocket.pubsub``), which carries it to the rooms of
the same name in the other processes and hosts: in-process by default (nothing else to
reach), Redis for workers and several servers.
"""

from __future__ import annotations

import logging
import os
import weakref
from threading import get_ident
from typing import TYPE_CHECKING, Any, Optional

from .connection import WebSocketConnection, deliver_as_batch, encode_message, joined_room, left_room
from .frames import OP_TEXT

if TYPE_CHECKING:
    from .pubsub import PubSubBackend

__all__ = ["Room"]

_log = logging.getLogger("kitura.websocket")


class Room:
    """A group of WebSocket connections; rooms of the same name in other processes
    receive each other's sends through ``backend`` (default: ``Room.default_backend``).

        room = Room("chat")
        room.join(connection)
        room.send("hello", excluding=connection)
    """

    #: The backend of rooms created without one: in-process unless set, e.g.
    #: ``Room.default_backend = RedisPubSub("redis://localhost:6379/0")`` before the first send.
    default_backend: Optional["PubSubBackend"] = None

    def __init__(self, name: str, *, backend: Optional["PubSubBackend"] = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("a room needs a non-empty str name")
        self.name = name
        self._backend = backend
        self._attached: Optional["PubSubBackend"] = None
        self._members: dict[str, WebSocketConnection] = {}
        _live.add(self)

    @property
    def backend(self) -> "PubSubBackend":
        """The backend this room uses (chosen at its first join or send)."""
        attached = self._attached
        if attached is None:
            attached = self._backend or Room.default_backend
            if attached is None:
                from .pubsub import InProcessPubSub
                attached = Room.default_backend = InProcessPubSub()
            attached.attach(self)
            self._attached = attached
        return attached

    # --- membership (this process's) ----------------------------------------------
    def join(self, connection: WebSocketConnection) -> None:
        """Add a connection (joining twice is harmless)."""
        self.backend  # noqa: B018 - attach now, so that remote sends reach this process
        self._members[connection.id] = connection
        joined_room(connection, self)

    def leave(self, connection: WebSocketConnection) -> None:
        """Remove a connection (a connection leaves its rooms when it closes)."""
        self._members.pop(connection.id, None)
        left_room(connection, self)

    @property
    def members(self) -> list[WebSocketConnection]:
        """The members connected to this process (other processes' are not known here)."""
        return list(self._members.values())

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, connection: object) -> bool:
        return isinstance(connection, WebSocketConnection) and connection.id in self._members

    # --- sending --------------------------------------------------------------------
    def send(self, message: str | bytes | bytearray | memoryview | None = None, as_binary: Optional[bool] = None,
             *, model: Any = None, excluding: Optional[WebSocketConnection] = None) -> None:
        """Send to every member here and, through the backend, in the other processes:
        ``str`` as text, ``bytes`` as binary (``as_binary`` overrides), ``model=`` as JSON
        text, as ``WebSocketConnection.send``. ``excluding``: a member that does not get
        it (the sender). Safe from any thread; never blocks."""
        opcode, payload = encode_message(message, as_binary, model)
        if opcode != OP_TEXT and not isinstance(payload, bytes):
            payload = bytes(payload)
        skip = excluding.id if excluding is not None else None
        self.deliver_local(opcode, payload, skip)
        self.backend.publish(self, opcode, payload)

    def deliver_local(self, opcode: int, payload: Any, excluding_id: Optional[str] = None) -> None:
        """Send to this process's members (backends call it for messages from elsewhere)."""
        members = self._members
        if not members:
            return
        connections = list(members.values())
        loop_thread = connections[0].loop_thread
        if get_ident() == loop_thread:
            self._send_each(connections, opcode, payload, excluding_id)
        else:
            loop = connections[0].loop
            try:
                loop.call_soon_threadsafe(deliver_as_batch, self._send_each, connections, opcode, payload, excluding_id)
            except RuntimeError:  # the loop is closed: so are its connections
                pass

    def _send_each(self, connections: list[WebSocketConnection], opcode: int, payload: Any,
                   excluding_id: Optional[str]) -> None:
        for connection in connections:
            if connection.transport_closed:
                self._members.pop(connection.id, None)
                continue
            if connection.id == excluding_id:
                continue
            try:
                connection.send_encoded(opcode, payload)
            except Exception:  # noqa: BLE001 - one broken member must not cost the others
                _log.exception("Error sending to WebSocket connection %s in room %r", connection.id, self.name)

    def __repr__(self) -> str:
        return f"<Room {self.name!r} members={len(self._members)}>"


_live: "weakref.WeakSet[Room]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A worker starts with empty rooms (the parent's connections are not its own); each
    room attaches to its backend again at its first join or send."""
    for room in list(_live):
        room._members.clear()
        room._attached = None


os.register_at_fork(after_in_child=_after_fork_in_child)
