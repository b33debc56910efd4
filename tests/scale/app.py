"""The app the scale-out tests run as a subprocess: a Router with a slow route and a
WebSocket echo, served by ``Kitura.run(workers=N)``.

    python tests/scale/app.py PORTFILE [WORKERS]

It writes the bound port to PORTFILE once listening (the port is 0: a free one).
With TLS_CERT and TLS_KEY in the environment it serves HTTPS.
``/pid`` answers the serving process's pid; ``/slow?s=1.0`` answers after s seconds.
"""

import asyncio
import os
import sys

from kitura import Kitura, Router
from kitura.log import HeliumLogger, LoggerMessageType
from kitura.net import ServerOptions, SSLConfiguration
from kitura.websocket import WebSocket, WebSocketService

router = Router()


@router.get("/pid")
def pid(request, response, next):
    response.send(str(os.getpid()))


@router.get("/slow")
async def slow(request, response, next):
    print(f"slow started in {os.getpid()}", flush=True)
    await asyncio.sleep(float(request.query_parameters.get("s", "1.0")))
    response.send("slow done")


class Echo(WebSocketService):
    def received_text(self, message, from_):
        from_.send(message=f"{os.getpid()}:{message}")


if __name__ == "__main__":
    HeliumLogger.use(LoggerMessageType.INFO)
    WebSocket.register(service=Echo(), on_path="echo")
    workers = sys.argv[2] if len(sys.argv) > 2 else "1"
    tls = (SSLConfiguration(certificate_file=os.environ["TLS_CERT"], key_file=os.environ["TLS_KEY"])
           if "TLS_CERT" in os.environ else None)
    server = Kitura.add_http_server(on_port=0, on_address="127.0.0.1", with_=router, with_ssl=tls,
                                    options=ServerOptions(shutdown_timeout=5.0))
    server.started(lambda: open(sys.argv[1], "w").write(str(server.port)))
    Kitura.run(workers=int(workers) if workers.isdigit() else workers)
    print("main returned", flush=True)
