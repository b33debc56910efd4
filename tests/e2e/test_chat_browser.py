"""The chat page of examples/chat-web in headless Chromium, with a Node.js client.

Chromium is driven over the DevTools protocol, with the Python `websockets`
client: nothing is downloaded. A line typed into the page (focus, insert text,
press Enter) reaches the tutorial's Node.js client, and the client's reply shows
up in the page. Chromium offers permessage-deflate, so the test also checks that
the server accepted it and carries large compressible messages both ways.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

from .conftest import Proc, start_node_chat_client

pytestmark = pytest.mark.timeout(180)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--window-size=1000,800",
]
BROWSER_START_TIMEOUT = 30.0
WAIT = 15.0


class DevTools:
    """A minimal, synchronous DevTools protocol client for one page target."""

    def __init__(self, ws_url: str) -> None:
        self._stack = contextlib.ExitStack()
        self._ws = self._stack.enter_context(connect(ws_url, max_size=None, open_timeout=WAIT, close_timeout=2))
        self._next_id = 0

    def call(self, method: str, timeout: float = WAIT, **params):
        self._next_id += 1
        call_id = self._next_id
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"DevTools: no answer to {method} within {timeout}s")
            message = json.loads(self._ws.recv(timeout=remaining))
            if message.get("id") == call_id:
                if "error" in message:
                    raise AssertionError(f"DevTools: {method} failed: {message['error']}")
                return message.get("result", {})
            # events are ignored

    def evaluate(self, expression: str, user_gesture: bool = False):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           userGesture=user_gesture)
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = WAIT, what: str = ""):
        """Poll a page expression until it is truthy; fail after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                page = self.evaluate("document.body ? document.body.innerText : ''")
                raise AssertionError(f"page: timed out after {timeout}s waiting for {what or expression}; "
                                     f"the page shows:\n{page}")
            time.sleep(0.1)

    def type_line(self, selector: str, text: str) -> None:
        """Type text into an input as a user does: focus, insert the text, press Enter."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", text=text)
        key = dict(key="Enter", code="Enter", windowsVirtualKeyCode=13, nativeVirtualKeyCode=13)
        self.call("Input.dispatchKeyEvent", type="keyDown", text="\r", **key)
        self.call("Input.dispatchKeyEvent", type="keyUp", **key)

    def screenshot(self, path: Path) -> None:
        import base64
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self._stack.close()
        except Exception:
            pass


@pytest.fixture
def browser_page(chromium, procs):
    """Headless Chromium on about:blank with its DevTools endpoint; yields a
    DevTools client attached to the page. Killed and cleaned up at teardown."""
    user_data_dir = Path(tempfile.mkdtemp(prefix="kitura-chromium-"))
    devtools: DevTools | None = None
    try:
        browser = Proc([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}",
                        "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                        "about:blank"], "chromium")
        procs.append(browser)
        active_port = user_data_dir / "DevToolsActivePort"
        deadline = time.monotonic() + BROWSER_START_TIMEOUT
        while not (active_port.exists() and len(active_port.read_text().splitlines()) >= 2):
            if browser.popen.poll() is not None:
                pytest.fail(f"Chromium exited at start:\n{browser.describe()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Chromium opened no DevTools port within {BROWSER_START_TIMEOUT}s:\n"
                            f"{browser.describe()}")
            time.sleep(0.1)
        devtools_port = int(active_port.read_text().splitlines()[0])
        page_ws_url = None
        while page_ws_url is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{devtools_port}/json/list", timeout=5) as r:
                    targets = json.load(r)
                page_ws_url = next((t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"), None)
            except (OSError, urllib.error.URLError, ValueError):
                pass
            if page_ws_url is None:
                if time.monotonic() > deadline:
                    pytest.fail(f"Chromium shows no page target:\n{browser.describe()}")
                time.sleep(0.1)
        devtools = DevTools(page_ws_url)
        devtools.call("Page.enable")
        devtools.call("Runtime.enable")
        yield devtools
    finally:
        if devtools is not None:
            devtools.close()
        for proc in procs:
            if proc.name == "chromium":
                proc.kill()
        shutil.rmtree(user_data_dir, ignore_errors=True)


def open_chat_page(page: DevTools, port: int) -> None:
    page.call("Page.navigate", url=f"http://127.0.0.1:{port}/")
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('status')",
                  what="the chat page to load")
    page.wait_for("document.getElementById('status').textContent === 'connected'",
                  what="the page's WebSocket to open")


def page_received(text: str) -> str:
    """A page expression: the page shows `text` as a received message."""
    return ("Array.from(document.querySelectorAll('#messages li.received'))"
            f".some(li => li.textContent === {json.dumps(text)})")


def test_chat_page_is_served(chat_web_server):
    server, port = chat_web_server
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert b'<script src="chat.js"></script>' in response.read()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/chat.js", timeout=10) as response:
        assert response.status == 200
        assert b"new WebSocket(" in response.read()
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing-here", timeout=10)
    assert info.value.code == 404


def test_browser_and_node_chat(chat_web_server, node, browser_page, procs, tmp_path):
    server, port = chat_web_server
    page = browser_page
    bob = start_node_chat_client(procs, node, port, "bob (node)")
    open_chat_page(page, port)

    # Chromium offered permessage-deflate; the server accepted it.
    extensions = page.evaluate("window.chat.socket.extensions")
    assert "permessage-deflate" in extensions, f"negotiated extensions: {extensions!r}"
    assert page.evaluate("window.chat.socket.protocol") == "chat"

    # Typed in the page -> the Node.js client prints it.
    page.type_line("#message", "hello from chromium")
    bob.stdout.wait_for(lambda text: "=> hello from chromium\n" in text)
    assert page.evaluate("document.getElementById('message').value") == "", "the input was not sent"

    # Typed in the Node.js client -> the page shows it.
    bob.type_line("hello back from node")
    page.wait_for(page_received("hello back from node"), what="node's reply in the page")

    # Large, compressible messages both ways (compressed between Chromium and the server).
    big_from_page = "chromium says " + "kitura " * 4000
    page.type_line("#message", big_from_page)
    bob.stdout.wait_for(lambda text: f"=> {big_from_page}\n" in text)
    big_from_node = "node says " + "websocket " * 3000
    bob.type_line(big_from_node)
    page.wait_for(page_received(big_from_node), what="node's large message in the page")

    # The sender never gets its own messages back.
    assert not page.evaluate(page_received("hello from chromium"))
    assert "=> hello back from node" not in bob.stdout.text
    assert page.evaluate("document.getElementById('status').textContent") == "connected"
    page.screenshot(tmp_path / "chat.png")
    assert server.popen.poll() is None, server.describe()


def test_two_browser_tabs_and_node(chat_web_server, node, browser_page, procs):
    """A second page (a second tab of the same browser) is a third client."""
    server, port = chat_web_server
    page = browser_page
    bob = start_node_chat_client(procs, node, port, "bob (node)")
    open_chat_page(page, port)
    # Open a second tab from the first one and drive it through the first:
    # both are real browser WebSocket clients.
    page.evaluate(f"window.second = window.open('http://127.0.0.1:{port}/', '_blank'); true",
                  user_gesture=True)
    page.wait_for("window.second && window.second.document.readyState === 'complete' && "
                  "window.second.document.getElementById('status') && "
                  "window.second.document.getElementById('status').textContent === 'connected'",
                  what="the second tab to connect")
    bob.type_line("to both tabs")
    page.wait_for(page_received("to both tabs"), what="node's line in the first tab")
    page.wait_for("Array.from(window.second.document.querySelectorAll('#messages li.received'))"
                  ".some(li => li.textContent === 'to both tabs')", what="node's line in the second tab")
    page.type_line("#message", "from the first tab")
    bob.stdout.wait_for(lambda text: "=> from the first tab\n" in text)
    page.wait_for("Array.from(window.second.document.querySelectorAll('#messages li.received'))"
                  ".some(li => li.textContent === 'from the first tab')",
                  what="the first tab's line in the second tab")
    assert server.popen.poll() is None, server.describe()
