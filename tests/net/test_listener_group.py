"""ListenerGroup.wait_for_listeners: Ctrl-C stops the servers and the program exits quietly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

PROGRAM = """
import sys
from kitura.net import HTTP, ListenerGroup, ServerDelegate
class D(ServerDelegate):
    async def handle(self, request, response):
        response.end("x")
server = HTTP.create_server()
server.delegate = D()
server.listen(on=0, address="127.0.0.1")
print("listening", flush=True)
ListenerGroup.wait_for_listeners()
print("state", server.state.name, flush=True)
"""


def test_ctrl_c_stops_the_servers_without_a_traceback():
    proc = subprocess.Popen([sys.executable, "-c", PROGRAM], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "listening"
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, err
    assert "state STOPPED" in out
    assert "Traceback" not in err
