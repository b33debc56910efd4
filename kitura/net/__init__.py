"""KituraNet for Python: the HTTP/1.1 server layer.

See docs/net.md. Import direction: this package imports only ``kitura.log`` and the
standard library (plus httptools and uvloop); the WebSocket layer plugs in through
``ConnectionUpgrader``.
"""

from .client import ClientRequest, ClientRequestError, ClientTimeoutError
from .client_response import ClientResponse
from .delegate import ServerDelegate
from .headers import HeadersContainer
from .http import HTTP
from .listener_group import ListenerGroup
from .monitor import Monitor, ServerMonitor
from .options import KeepAliveState, ServerOptions
from .request import ServerRequest
from .response import ResponseConnection, ServerResponse
from .server import HTTPServer, ServerState
from .serving import ServingState
from .status import HTTPStatusCode, HTTPStatusCodeClass
from .tls import SSLConfiguration
from .upgrade import ConnectionUpgradeFactory, ConnectionUpgrader, UpgradeHandover, UpgradeRejection

__all__ = [
    "HTTP", "HTTPServer", "ServerState", "ServerDelegate", "ServerRequest", "ServerResponse",
    "HeadersContainer", "HTTPStatusCode", "HTTPStatusCodeClass", "ServerOptions", "KeepAliveState",
    "ListenerGroup", "SSLConfiguration", "ConnectionUpgrader", "ConnectionUpgradeFactory",
    "UpgradeHandover", "UpgradeRejection", "ClientRequest", "ClientResponse", "ClientRequestError",
    "ClientTimeoutError", "ServingState", "ResponseConnection", "Monitor", "ServerMonitor",
]
