"""Kitura: the facade that creates, starts and stops the HTTP servers (Kitura's ``Kitura`` class).

    Kitura.add_http_server(on_port=8080, with_=router)
    Kitura.run()          # blocks until every server has stopped
"""
from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from kitura.net import HTTP, HTTPServer, KeepAliveState, ListenerGroup, ServerDelegate, ServerOptions, ServerState
from kitura.net.listener_group import resolve_workers

__all__ = ["Kitura"]

logger = logging.getLogger("kitura.router")


class Kitura:
    """Class-level registry of servers, as in Kitura: add them, then ``run()`` or ``start()``."""

    _lock = threading.Lock()
    _http_servers: list[tuple[HTTPServer, int, str | None]] = []
    _unix_servers: list[tuple[HTTPServer, str]] = []

    def __init__(self) -> None:  # pragma: no cover - a namespace, as in Kitura
        raise TypeError("Kitura is used through its class methods")

    @classmethod
    def add_http_server(cls, on_port: int | None = None, on_address: str | None = None,
                        with_: ServerDelegate | Any = None, with_ssl: Any = None,
                        keep_alive: KeepAliveState | Any = KeepAliveState.UNLIMITED,
                        allow_port_reuse: bool = False, options: ServerOptions | None = None, *,
                        on_unix_domain_socket: str | None = None) -> HTTPServer:
        """Create an HTTP server for ``with_`` (a Router or any ServerDelegate); it listens
        when ``run()``/``start()`` is called. ``on_port=0`` picks a free port (``server.port``).
        WebSocket services registered with ``WebSocket.register`` share the port."""
        if with_ is None:
            raise TypeError("add_http_server() needs with_=router (the ServerDelegate)")
        if on_port is None and on_unix_domain_socket is None:
            raise TypeError("add_http_server() needs on_port= (or on_unix_domain_socket=)")
        server = HTTP.create_server()
        server.delegate = with_
        if with_ssl is not None:
            server.ssl_config = getattr(with_ssl, "config", with_ssl)
        server.keep_alive_state = keep_alive
        server.allow_port_reuse = allow_port_reuse
        if options is not None:
            server.options = options
        with cls._lock:
            if on_unix_domain_socket is not None:
                cls._unix_servers.append((server, on_unix_domain_socket))
            else:
                cls._http_servers.append((server, int(on_port), on_address))  # type: ignore[arg-type]
        return server

    _workers: int | str = 1

    @classmethod
    def run(cls, exit_on_failure: bool = True, *, workers: int | str = 1) -> None:
        """Start every server and block until all have stopped (exits if one fails to start).

        ``workers=N`` serves them from N worker processes (``"auto"``: one per core) under
        a supervisor; SIGTERM or Ctrl-C drains them and returns (see docs/scaling.md).
        """
        logger.debug("Starting Kitura framework...")
        if exit_on_failure:
            failures = cls.start_with_status(workers=workers)
            if failures:
                sys.exit(failures)
        else:
            cls.start(workers=workers)
        cls.wait()

    @classmethod
    def start(cls, *, workers: int | str = 1) -> None:
        """Start every server and return; ``workers=N`` forks the workers at ``wait()``
        (until then this process serves alone)."""
        cls.start_with_status(workers=workers)

    @classmethod
    def start_with_status(cls, *, workers: int | str = 1) -> int:
        """Start every server; return how many failed to start (each failure is logged)."""
        resolve_workers(workers)  # a bad value fails here, before anything listens
        cls._workers = workers
        failures = 0
        with cls._lock:
            http_servers = list(cls._http_servers)
            unix_servers = list(cls._unix_servers)
        for server, port, address in http_servers:
            if server.port is not None and server.state is ServerState.STARTED:
                continue
            try:
                server.listen(on=port, address=address)
            except Exception as exc:  # noqa: BLE001 - counted and logged, as Kitura does
                failures += 1
                logger.error("Error listening on %s:%s: %s. Use server.failed(callback) to handle",
                             address or "*", port, exc)
        for server, path in unix_servers:
            try:
                server.listen(unix_domain_socket_path=path)
            except Exception as exc:  # noqa: BLE001
                failures += 1
                logger.error("Error listening on path %s: %s. Use server.failed(callback) to handle", path, exc)
        return failures

    @classmethod
    def stop(cls, unregister: bool = True, *, graceful: bool = False) -> None:
        """Stop every server (and forget them, unless ``unregister=False``); ``graceful=True``
        drains them first (see ``HTTPServer.stop``)."""
        with cls._lock:
            servers = [s for s, _, _ in cls._http_servers] + [s for s, _ in cls._unix_servers]
            if unregister:
                cls._http_servers.clear()
                cls._unix_servers.clear()
        for server in servers:
            server.stop(graceful=graceful)

    @classmethod
    def wait(cls) -> None:
        """Block until every server has stopped (SIGTERM and Ctrl-C stop them gracefully)."""
        ListenerGroup.wait_for_listeners(workers=cls._workers)
