# The tutorial's chat (examples/chat/chat_service.py) written on a Room: the room
# keeps the connections, and its backend carries each message to the rooms of the
# other worker processes and servers.

import os

from kitura.log import Log
from kitura.websocket import Room, WebSocketCloseReasonCode, WebSocketConnection, WebSocketService


class ChatService(WebSocketService):

    def __init__(self, room: Room) -> None:
        super().__init__()
        self.room = room

    def connected(self, connection: WebSocketConnection) -> None:
        self.room.join(connection)
        Log.info(f"{connection.id} joined the chat in process {os.getpid()}")

    def disconnected(self, connection: WebSocketConnection, reason: WebSocketCloseReasonCode) -> None:
        self.room.leave(connection)

    def received_binary(self, message: bytes, from_: WebSocketConnection) -> None:
        from_.close(reason=WebSocketCloseReasonCode.INVALID_DATA_TYPE,
                    description="Chat-Server only accepts text messages")

        self.room.leave(from_)

    def received_text(self, message: str, from_: WebSocketConnection) -> None:
        self.room.send(message, excluding=from_)
