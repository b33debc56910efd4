# ChatServer is a very simple chat server

from kitura.websocket import WebSocketCloseReasonCode, WebSocketConnection, WebSocketService


class ChatService(WebSocketService):

    def __init__(self) -> None:
        super().__init__()
        self._connections: dict[str, WebSocketConnection] = {}

    def connected(self, connection: WebSocketConnection) -> None:
        self._connections[connection.id] = connection

    def disconnected(self, connection: WebSocketConnection, reason: WebSocketCloseReasonCode) -> None:
        self._connections.pop(connection.id, None)

    def received_binary(self, message: bytes, from_: WebSocketConnection) -> None:
        from_.close(reason=WebSocketCloseReasonCode.INVALID_DATA_TYPE,
                    description="Chat-Server only accepts text messages")

        self._connections.pop(from_.id, None)

    def received_text(self, message: str, from_: WebSocketConnection) -> None:
        # list(...) takes a snapshot, as Swift's value-type Dictionary does.
        for connection_id, connection in list(self._connections.items()):
            if connection_id != from_.id:
                connection.send(message=message)
