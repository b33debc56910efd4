"""The tutorial's chat (examples/chat) with the tutorial's Node.js client.

Kitura-WebSocket's README: start the server, start several `node chat.js
localhost:8080` clients, type a line in one: every other client prints
`=> line`, the sender does not. A client that sends a binary message is closed
with 1003 and "Chat-Server only accepts text messages"; the others go on.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import CLIENT_DIR, Proc, start_node_chat_client

pytestmark = pytest.mark.timeout(180)

DESCRIPTION = "Chat-Server only accepts text messages"

# A client that speaks binary, with the same npm `websocket` package as chat.js:
# it sends one binary message and prints the close code and description it gets.
BINARY_CLIENT = r"""
var WebSocketClient = require('websocket').client;
var client = new WebSocketClient();
client.on('connectFailed', function (error) {
    console.log('Connect Error: ' + error.toString());
    process.exit(2);
});
client.on('connect', function (connection) {
    connection.on('message', function (message) {
        console.log('MESSAGE ' + JSON.stringify(message));
    });
    connection.on('close', function (reasonCode, description) {
        console.log('CLOSE ' + JSON.stringify({code: reasonCode, description: description}));
        process.exit(0);
    });
    connection.sendBytes(Buffer.from([0, 1, 2, 3, 255]));
});
client.connect('ws://' + process.argv[1] + '/chat', 'chat');
setTimeout(function () { console.log('TIMEOUT'); process.exit(3); }, 15000);
"""


def received(line: str):
    """Predicate: the client printed `=> line` (the tutorial client's format)."""
    return lambda text: f"=> {line}\n" in text


def test_server_logs_listening_line(chat_server):
    server, port = chat_server
    assert f"Listening on port {port}" in server.stderr.text
    assert server.popen.poll() is None


def test_three_node_clients_chat(chat_server, node, procs):
    server, port = chat_server
    alice, bob, carol = (start_node_chat_client(procs, node, port, name) for name in ("alice", "bob", "carol"))

    alice.type_line("hello from alice")
    bob.stdout.wait_for(received("hello from alice"))
    carol.stdout.wait_for(received("hello from alice"))

    # Messages on one connection arrive in order, so once alice has bob's reply
    # she would already have her own line had the server echoed it to her.
    bob.type_line("hi alice, bob here")
    alice.stdout.wait_for(received("hi alice, bob here"))
    carol.stdout.wait_for(received("hi alice, bob here"))
    assert "=> hello from alice" not in alice.stdout.text, alice.describe()

    carol.type_line("carol: ünïcödé ✓ and a longer line " + "la " * 200)
    alice.stdout.wait_for(received("carol: ünïcödé ✓ and a longer line " + "la " * 200))
    bob.stdout.wait_for(received("carol: ünïcödé ✓ and a longer line " + "la " * 200))

    alice.type_line("bye")
    bob.stdout.wait_for(received("bye"))
    carol.stdout.wait_for(received("bye"))
    assert "=> hi alice, bob here" not in bob.stdout.text
    assert "=> carol:" not in carol.stdout.text
    assert "=> bye" not in alice.stdout.text
    for client in (alice, bob, carol):
        assert client.popen.poll() is None, client.describe()
        assert "Closed" not in client.stdout.text, client.describe()
    assert server.popen.poll() is None, server.describe()


def test_binary_message_closes_sender_with_1003(chat_server, node, procs):
    server, port = chat_server
    alice, bob, carol = (start_node_chat_client(procs, node, port, name) for name in ("alice", "bob", "carol"))

    binary = Proc([node, "-e", BINARY_CLIENT, f"localhost:{port}"], "binary client", cwd=CLIENT_DIR)
    procs.append(binary)
    try:
        binary.popen.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the binary client was not closed:\n{binary.describe()}")
    output = binary.stdout.wait_for("CLOSE ", timeout=5)
    close_line = next(line for line in output.splitlines() if line.startswith("CLOSE "))
    close = json.loads(close_line[len("CLOSE "):])
    assert close == {"code": 1003, "description": DESCRIPTION}, binary.describe()
    assert "MESSAGE" not in output, binary.describe()

    # The others keep chatting, and nothing was relayed from the binary client.
    carol.type_line("still here?")
    alice.stdout.wait_for(received("still here?"))
    bob.stdout.wait_for(received("still here?"))
    alice.type_line("yes")
    bob.stdout.wait_for(received("yes"))
    carol.stdout.wait_for(received("yes"))
    for client in (alice, bob, carol):
        assert client.popen.poll() is None, client.describe()
        assert "Closed" not in client.stdout.text, client.describe()
    assert server.popen.poll() is None, server.describe()


def test_client_leaving_does_not_break_the_chat(chat_server, node, procs):
    """A client that quits (end of input: the tutorial client closes and exits)
    is removed from the chat; the others go on."""
    server, port = chat_server
    alice, bob, carol = (start_node_chat_client(procs, node, port, name) for name in ("alice", "bob", "carol"))

    carol.popen.stdin.close()
    try:
        carol.popen.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"carol did not exit at end of input:\n{carol.describe()}")
    carol.stdout.wait_for("Have a great day!", timeout=5)

    alice.type_line("just us now")
    bob.stdout.wait_for(received("just us now"))
    bob.type_line("indeed")
    alice.stdout.wait_for(received("indeed"))
    assert server.popen.poll() is None, server.describe()
