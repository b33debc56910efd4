# ChatServer is a very simple chat server

import os

from kitura.net import HTTP, ListenerGroup, ServerDelegate, ServerRequest, ServerResponse
from kitura.websocket import WebSocket

from kitura.log import HeliumLogger, Log, LoggerMessageType

from chat_service import ChatService

# The tutorial listens on port 8080. The PORT environment variable overrides it
# (the end-to-end tests use it to run the chat on a free port).
port = int(os.environ.get("PORT", "8080"))

# Using an implementation for a Logger
HeliumLogger.use(LoggerMessageType.INFO)

WebSocket.register(service=ChatService(), on_path="chat")


class ChatServerDelegate(ServerDelegate):
    def handle(self, request: ServerRequest, response: ServerResponse) -> None:
        pass


# Add HTTP Server to listen on port 8080
server = HTTP.create_server()
server.delegate = ChatServerDelegate()

try:
    server.listen(on=port)
    ListenerGroup.wait_for_listeners()
except Exception as error:
    Log.error(f"Error listening on port {port}: {error}.")
