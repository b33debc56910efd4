"""Kitura for Python: a Kitura-compatible HTTP server and router with integrated WebSocket.

Sub-packages: `kitura.net` (KituraNet, the HTTP/1.1 server), `kitura.websocket`
(Kitura-WebSocket, RFC 6455 + RFC 7692), `kitura.log` (HeliumLogger/LoggerAPI).
"""
