"""examples/kitura-sample end to end: its routes over HTTP, the chat over WebSocket, and main.py as a process."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kitura.net import HTTP

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kitura-sample"


@pytest.fixture(scope="module")
def sample():
    sys.path.insert(0, str(SAMPLE))
    try:
        from application import App
        from chat_service import ChatService
        from kitura.websocket import WebSocket
    finally:
        sys.path.remove(str(SAMPLE))
    WebSocket.register(service=ChatService(), on_path="kitura-chat")
    server = HTTP.create_server()
    server.delegate = App().router
    server.listen(on=0, address="127.0.0.1")
    from .conftest import Client
    try:
        yield Client(server.port)
    finally:
        server.stop()
        WebSocket.unregister(path="kitura-chat")


def test_hello_round_trip(sample):
    assert sample.get("/hello").text == "Hello World, from Kitura!"
    reply = sample.post("/hello", body=b'{"name": "Ann"}', headers={"Content-Type": "application/json"})
    assert json.loads(reply.body) == {"name": "Ann"}
    assert sample.get("/hello").text == "Hello Ann, from Kitura!"
    form = sample.post("/hello", body=b"name=Bob", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert json.loads(form.body) == {"name": "Bob"}
    assert sample.request("DELETE", "/hello").text == "Got a DELETE request"
    assert sample.get("/hello").text == "Hello World, from Kitura!"


def test_further_routes(sample):
    assert sample.get("/multi").text == "I'm here!\nMe too!\nI come afterward..\n"
    reply = sample.get("/redirect")
    assert reply.status == 302 and reply.header("Location") == "https://www.kitura.io"
    assert "<b>User:</b> Kitura" in sample.get("/users/Kitura").text
    assert "&lt;script&gt;" in sample.get("/users/%3Cscript%3E").text
    assert sample.get("/user/42").text == "42|42|"


def test_error_handling(sample):
    reply = sample.get("/error")
    assert reply.status == 200 and reply.text == "Caught the error: Example of error being set"
    reply = sample.get("/exception")
    assert reply.status == 500 and reply.text == "Caught the error: an uncaught exception"
    reply = sample.get("/no/such/route")
    assert reply.status == 404 and reply.text == "Route not found in Sample application!"


def test_jinja_pages(sample):
    sample.request("DELETE", "/hello")
    assert "<b>not set to any value</b>" in sample.get("/jinja").text
    reply = sample.post("/jinjaname", body=b"name=Zoe", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 303 and reply.header("Location") == "/jinja"
    assert "<b>Zoe</b>" in sample.get("/jinja").text
    for path in ("/articles", "/articles.html", "/articles_subdirectory", "/articles_include"):
        reply = sample.get(path)
        assert reply.status == 200 and "Routers, middleware and next()" in reply.text, path


def test_codable_books(sample):
    sample.request("DELETE", "/books")
    book = {"name": "Dune", "author": "Herbert", "rating": 5}
    reply = sample.post("/books", body=json.dumps(book), headers={"Content-Type": "application/json"})
    assert reply.status == 201 and json.loads(reply.body) == book
    assert json.loads(sample.get("/books").body) == [book]
    assert json.loads(sample.get("/books?name=Other").body) == []
    bad = sample.post("/books", body=b'{"name": "x"}', headers={"Content-Type": "application/json"})
    assert bad.status == 422
    invalid = dict(book, rating=9)
    reply = sample.post("/books", body=json.dumps(invalid), headers={"Content-Type": "application/json"})
    assert reply.status == 422 and json.loads(reply.body) == {"error": "rating is 0 to 5"}
    assert sample.request("DELETE", "/books").status == 204


def test_static_files(sample):
    assert "Kitura-Sample for Python" in sample.get("/").text
    assert sample.get("/static/style.css").header("Content-Type") == "text/css"
    assert "Kitura chat" in sample.get("/chat/").text
    assert sample.get("/chat/chat.js").header("Content-Type") == "application/javascript"


def test_chat(sample):
    from websockets.sync.client import connect
    url = f"ws://127.0.0.1:{sample.port}/kitura-chat"
    with connect(url, open_timeout=10) as ann, connect(url, open_timeout=10) as bob:
        ann.send("C:Ann")
        assert ann.recv(timeout=10) == "C:Ann"
        bob.send("C:Bob")
        assert bob.recv(timeout=10) == "c:Ann"
        assert bob.recv(timeout=10) == "C:Bob"
        assert ann.recv(timeout=10) == "C:Bob"
        bob.send("M:Bob:hello")
        assert ann.recv(timeout=10) == "M:Bob:hello"
        assert bob.recv(timeout=10) == "M:Bob:hello"
        bob.close()
        assert ann.recv(timeout=10) == "D:Bob"


def test_chat_rejects_bad_messages(sample):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect
    with connect(f"ws://127.0.0.1:{sample.port}/kitura-chat", open_timeout=10) as ws:
        ws.send("X:what")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=10)
        assert info.value.rcvd.code == 1007


def test_main_runs_with_one_command():
    proc = subprocess.Popen([sys.executable, str(SAMPLE / "main.py"), "--port", "0", "--address", "127.0.0.1"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        port = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            found = re.search(r"Listening on port (\d+)", line)
            if found:
                port = int(found.group(1))
                break
        assert port, "the sample did not report its port"
        from .conftest import Client
        assert Client(port).get("/hello").text == "Hello World, from Kitura!"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
