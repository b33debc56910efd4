"""kitura/app.py: the Kitura facade (add_http_server, start, run, stop, wait) and kitura's re-exports."""
from __future__ import annotations

import http.client
import socket
import threading

import pytest

import kitura
from kitura import Kitura, Router


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def clean_kitura():
    Kitura.stop()
    yield
    Kitura.stop()


def hello_router() -> Router:
    router = Router()
    router.get("/", lambda req, res, nxt: (res.send("Hello from Kitura"), nxt()))
    return router


def test_add_start_stop():
    server = Kitura.add_http_server(on_port=0, on_address="127.0.0.1", with_=hello_router())
    assert server.delegate is not None and server.port is None
    Kitura.start()
    assert server.port
    assert get(server.port, "/") == (200, b"Hello from Kitura")
    Kitura.stop()
    with pytest.raises(OSError):
        get(server.port, "/")


def test_start_with_status_counts_failures():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        Kitura.add_http_server(on_port=busy.getsockname()[1], on_address="127.0.0.1", with_=hello_router())
        ok = Kitura.add_http_server(on_port=0, on_address="127.0.0.1", with_=hello_router())
        assert Kitura.start_with_status() == 1
        assert get(ok.port, "/")[0] == 200
    finally:
        busy.close()


def test_run_blocks_until_stopped():
    server = Kitura.add_http_server(on_port=0, on_address="127.0.0.1", with_=hello_router())
    done = threading.Event()

    def run():
        Kitura.run(exit_on_failure=False)
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    for _ in range(200):
        if server.port:
            break
        threading.Event().wait(0.01)
    assert get(server.port, "/")[0] == 200
    assert not done.is_set()
    Kitura.stop()
    assert done.wait(10)


def test_run_exits_on_failure():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        Kitura.add_http_server(on_port=busy.getsockname()[1], on_address="127.0.0.1", with_=hello_router())
        with pytest.raises(SystemExit) as info:
            Kitura.run()
        assert info.value.code == 1
    finally:
        busy.close()


def test_stop_without_unregister_keeps_servers():
    Kitura.add_http_server(on_port=0, on_address="127.0.0.1", with_=hello_router())
    Kitura.start()
    Kitura.stop(unregister=False)
    assert len(Kitura._http_servers) == 1


def test_options_and_keep_alive_are_passed_on():
    from kitura.net import KeepAliveState, ServerOptions
    options = ServerOptions(request_size_limit=1000)
    server = Kitura.add_http_server(on_port=0, with_=hello_router(), options=options,
                                    keep_alive=KeepAliveState.DISABLED, allow_port_reuse=True)
    assert server.options is options and server.keep_alive_state is KeepAliveState.DISABLED
    assert server.allow_port_reuse is True


def test_add_http_server_needs_a_delegate():
    with pytest.raises(TypeError):
        Kitura.add_http_server(on_port=0)


def test_public_names():
    for name in kitura.__all__:
        assert getattr(kitura, name) is not None
    with pytest.raises(AttributeError):
        kitura.NoSuchThing  # noqa: B018


def test_importing_kitura_does_not_import_websocket():
    import subprocess
    import sys
    code = ("import sys, kitura; from kitura import Kitura, Router, StaticFileServer, BodyParser; "
            "import kitura.net; print(any(m.startswith('kitura.websocket') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_with_ssl(tmp_path):
    import ssl
    import trustme
    from kitura.net import SSLConfiguration
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    server = Kitura.add_http_server(on_port=0, on_address="127.0.0.1", with_=hello_router(),
                                    with_ssl=SSLConfiguration(certificate_file=str(cert_file), key_file=str(key_file)))
    Kitura.start()
    context = ssl.create_default_context()
    ca.configure_trust(context)
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=10, context=context)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.read() == b"Hello from Kitura"
    finally:
        conn.close()


def test_websocket_services_share_the_port():
    websocket = pytest.importorskip("kitura.websocket")
    from websockets.sync.client import connect

    class Echo(websocket.WebSocketService):
        def received_text(self, message, from_):
            from_.send(message=message.upper())

    websocket.WebSocket.register(service=Echo(), on_path="echo-router-test")
    try:
        server = Kitura.add_http_server(on_port=0, on_address="127.0.0.1", with_=hello_router())
        Kitura.start()
        assert get(server.port, "/") == (200, b"Hello from Kitura")
        with connect(f"ws://127.0.0.1:{server.port}/echo-router-test", open_timeout=10) as ws:
            ws.send("hi")
            assert ws.recv(timeout=10) == "HI"
        assert get(server.port, "/echo-router-test")[0] == 404   # a plain GET still goes to the Router
    finally:
        websocket.WebSocket.unregister(path="echo-router-test")
