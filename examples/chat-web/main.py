# ChatServer with a web page: the tutorial's chat server, plus a delegate that
# serves a small chat page (public/index.html and public/chat.js) on the same
# port as the chat service, so that a browser is a client too.
#
#   python examples/chat-web/main.py      then open http://localhost:8080/

import os
import sys
from pathlib import Path

from kitura.net import HTTP, HTTPStatusCode, ListenerGroup, ServerDelegate, ServerRequest, ServerResponse
from kitura.websocket import WebSocket

from kitura.log import HeliumLogger, Log, LoggerMessageType

# The very ChatService of the tutorial, from examples/chat.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "chat"))
from chat_service import ChatService  # noqa: E402

# Port 8080, as the tutorial; the PORT environment variable overrides it
# (the end-to-end tests use it to run the chat on a free port).
port = int(os.environ.get("PORT", "8080"))

PUBLIC = Path(__file__).resolve().parent / "public"

# The only files served: URL path -> (file, Content-Type).
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/chat.js": ("chat.js", "text/javascript; charset=utf-8"),
    "/chat.css": ("chat.css", "text/css; charset=utf-8"),
}

# Using an implementation for a Logger
HeliumLogger.use(LoggerMessageType.INFO)

# WebSocket upgrade requests for /chat go to the service; every other request
# goes to the delegate below.
WebSocket.register(service=ChatService(), on_path="chat")


class ChatServerDelegate(ServerDelegate):
    def handle(self, request: ServerRequest, response: ServerResponse) -> None:
        path = request.url_url.path
        entry = FILES.get(path)
        if request.method not in ("GET", "HEAD") or entry is None:
            response.status_code = HTTPStatusCode.NOT_FOUND
            response.headers["Content-Type"] = "text/plain; charset=utf-8"
            response.end(text=f"Cannot {request.method} {path}.")
            return
        file_name, content_type = entry
        body = (PUBLIC / file_name).read_bytes()
        response.status_code = HTTPStatusCode.OK
        response.headers["Content-Type"] = content_type
        response.headers["Content-Length"] = str(len(body))
        response.headers["Cache-Control"] = "no-cache"
        if request.method == "GET":
            response.write(from_=body)
        response.end()


# Add HTTP Server to listen on port 8080
server = HTTP.create_server()
server.delegate = ChatServerDelegate()

try:
    server.listen(on=port)
    ListenerGroup.wait_for_listeners()
except Exception as error:
    Log.error(f"Error listening on port {port}: {error}.")
