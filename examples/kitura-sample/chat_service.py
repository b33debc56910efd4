"""The chat service of the sample, on /kitura-chat.

Messages are "<type>:<text>": C (a client connected, with its display name),
M (a message), T and S (started and stopped typing); the server adds
c (a client already in the chat) and D (a client left).
"""
from __future__ import annotations

from kitura.websocket import WebSocketCloseReasonCode, WebSocketConnection, WebSocketService


class ChatService(WebSocketService):
    def __init__(self) -> None:
        # Callbacks all run on the event-loop thread, so this dict needs no lock.
        self.connections: dict[str, tuple[str, WebSocketConnection]] = {}

    def disconnected(self, connection: WebSocketConnection, reason: WebSocketCloseReasonCode) -> None:
        gone = self.connections.pop(connection.id, None)
        if gone is not None:
            self._broadcast(f"D:{gone[0]}")

    def received_binary(self, message: bytes, from_: WebSocketConnection) -> None:
        self._reject(from_, "The chat accepts text messages only")

    def received_text(self, message: str, from_: WebSocketConnection) -> None:
        if len(message) < 2:
            return
        kind, display_name = message[0], message[2:]
        if kind in ("M", "T", "S"):
            if from_.id in self.connections:
                self._broadcast(message)
        elif kind == "C":
            if not display_name:
                from_.close(reason=WebSocketCloseReasonCode.INVALID_DATA_CONTENTS,
                            description="A connect message needs the client's name")
                return
            for client_name, _ in self.connections.values():
                from_.send(message=f"c:{client_name}")
            self.connections[from_.id] = (display_name, from_)
            self._broadcast(message)
        else:
            self._reject(from_, "A message starts with C, M, S or T")

    def _broadcast(self, message: str) -> None:
        for _, connection in list(self.connections.values()):
            connection.send(message=message)

    def _reject(self, connection: WebSocketConnection, description: str) -> None:
        connection.close(reason=WebSocketCloseReasonCode.INVALID_DATA_CONTENTS, description=description)
        gone = self.connections.pop(connection.id, None)
        if gone is not None:
            self._broadcast(f"D:{gone[0]}")
