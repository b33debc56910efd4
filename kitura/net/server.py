"""``HTTPServer``: listen and stop, lifecycle callbacks, and the server's shared state.

``listen()`` binds on the process's background loop (``loop.get_loop()``) and returns
once the socket is bound, as Kitura's does; ``listen_async()`` serves on the loop the
caller already runs. Both share everything else.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import socket
import threading
from enum import Enum
from types import MethodType
from typing import Any, Awaitable, Callable, Generic, Optional, TypeVar, overload

from .connection import HTTPConnection
from .delegate import ServerDelegate
from .listener_group import ListenerGroup
from .loop import get_loop, note_loop_thread, on_loop_thread, run_in_loop
from .options import KeepAliveState, ServerOptions
from .serving import ServingState, make_dispatch
from .tls import SSLConfiguration

__all__ = ["HTTPServer", "ServerState"]

_log = logging.getLogger("kitura.net")


class ServerState(Enum):
    """Kitura's ``ServerState``."""

    UNKNOWN = "unknown"
    STARTED = "started"
    STOPPED = "stopped"
    FAILED = "failed"


_OnClass = TypeVar("_OnClass", bound=Callable[..., Any])
_OnInstance = TypeVar("_OnInstance", bound=Callable[..., Any])


class _StaticOrInstance(Generic[_OnClass, _OnInstance]):
    """A method with a static form, as Swift has ``HTTPServer.listen(on:delegate:)``
    beside ``server.listen(on:)``: looked up on the class it is ``on_class`` (bound to
    the class), on an instance the ordinary method ``on_instance``."""

    def __init__(self, on_class: Callable[..., Any], on_instance: Callable[..., Any]) -> None:
        self._on_class = on_class
        self._on_instance = on_instance
        self.__doc__ = on_instance.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.__name__ = name
        for function in (self._on_class, self._on_instance):  # reprs and help() say `listen`
            function.__name__ = name
            function.__qualname__ = f"{owner.__qualname__}.{name}"

    @overload
    def __get__(self, instance: None, owner: type) -> _OnClass: ...
    @overload
    def __get__(self, instance: object, owner: Optional[type] = None) -> _OnInstance: ...

    def __get__(self, instance: Any, owner: Optional[type] = None) -> Any:
        if instance is None:
            return MethodType(self._on_class, owner)
        return MethodType(self._on_instance, instance)


class HTTPServer:
    """Kitura's ``HTTPServer``. Create one with ``HTTP.create_server()``, or create and
    start one with ``HTTPServer.listen(on=port, delegate=d)``."""

    def __init__(self) -> None:
        self._delegate: Optional[ServerDelegate] = None
        self.options = ServerOptions()
        self.keep_alive_state = KeepAliveState.UNLIMITED
        self.ssl_config: Optional[SSLConfiguration] = None
        self.allow_port_reuse = False
        self.port: Optional[int] = None
        self.address: Optional[str] = None
        self.unix_domain_socket_path: Optional[str] = None
        self.state = ServerState.UNKNOWN
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._server: Optional[asyncio.AbstractServer] = None
        #: What the connections share with this server; made by listen (see serving.py).
        self.serving: Optional[ServingState] = None
        self._sweeper: Optional[asyncio.TimerHandle] = None
        self._callbacks: dict[str, list[Callable[..., Any]]] = {
            "started": [], "stopped": [], "failed": [], "client_connection_failed": [],
        }
        self._lock = threading.Lock()
        self._inherited_sockets: Optional[list[socket.socket]] = None  # see serve_sockets

    # --- delegate ------------------------------------------------------------
    @property
    def delegate(self) -> Optional[ServerDelegate]:
        return self._delegate

    @delegate.setter
    def delegate(self, delegate: Optional[ServerDelegate]) -> None:
        if delegate is not None and not callable(getattr(delegate, "handle", None)):
            raise TypeError("a server delegate needs a handle(request, response) method")
        self._delegate = delegate
        serving = self.serving
        if serving is not None:  # already listening: requests from now on go to this one
            serving.dispatch = make_dispatch(delegate, serving.loop)

    @property
    def connection_count(self) -> int:
        """Connections open now (HTTP and upgraded), as counted against ``connection_limit``."""
        serving = self.serving
        return len(serving.connections) if serving is not None else 0

    # --- lifecycle callbacks (chainable) ----------------------------------------
    def started(self, callback: Callable[[], Any]) -> "HTTPServer":
        return self._add_callback("started", callback, self.state is ServerState.STARTED)

    def stopped(self, callback: Callable[[], Any]) -> "HTTPServer":
        return self._add_callback("stopped", callback, self.state is ServerState.STOPPED)

    def failed(self, callback: Callable[[BaseException], Any]) -> "HTTPServer":
        return self._add_callback("failed", callback, False)

    def client_connection_failed(self, callback: Callable[[BaseException], Any]) -> "HTTPServer":
        return self._add_callback("client_connection_failed", callback, False)

    def _add_callback(self, kind: str, callback: Callable[..., Any], run_now: bool) -> "HTTPServer":
        self._callbacks[kind].append(callback)
        if run_now:
            self._run_callback(kind, callback)
        return self

    def _fire(self, kind: str, *args: Any) -> None:
        for callback in list(self._callbacks[kind]):
            self._run_callback(kind, callback, *args)

    def _run_callback(self, kind: str, callback: Callable[..., Any], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - a callback must not break the server
            _log.exception("Error in a %s callback", kind)

    def _client_connection_failed(self, exc: BaseException) -> None:
        _log.debug("Client connection failed: %s", exc)
        self._fire("client_connection_failed", exc)

    # --- listen ----------------------------------------------------------------
    def _listen(self, on: int = 0, address: Optional[str] = None, *,
                unix_domain_socket_path: Optional[str] = None) -> None:
        """Bind and serve on the background loop; returns once bound.

        ``on=0`` binds a free port (``self.port`` tells which); ``address=None`` listens on
        every interface, as Kitura does. Raises the bind error (after the ``failed`` callbacks).
        On the class, ``HTTPServer.listen(on=, address=None, delegate=)`` is Kitura's static
        form: it creates a server with that delegate, listens and returns the server.
        """
        loop = get_loop()
        if on_loop_thread(loop):
            raise RuntimeError("listen() blocks; on the server's own loop use `await server.listen_async(...)`")
        run_in_loop(self.listen_async(on, address, unix_domain_socket_path=unix_domain_socket_path), loop)

    def _listen_new(cls, on: int = 0, address: Optional[str] = None, *,  # type: ignore[misc]
                    delegate: Optional[ServerDelegate],
                    unix_domain_socket_path: Optional[str] = None) -> "HTTPServer":
        """Kitura's static ``HTTPServer.listen(on:address:delegate:)`` (and
        ``listen(unixDomainSocketPath:delegate:)``): a new server with ``delegate``,
        listening; returns it. Raises the bind error, as ``server.listen`` does."""
        server = cls()
        server.delegate = delegate
        server.listen(on, address, unix_domain_socket_path=unix_domain_socket_path)
        return server

    listen = _StaticOrInstance[Callable[..., "HTTPServer"], Callable[..., None]](_listen_new, _listen)

    async def _listen_async(self, on: int = 0, address: Optional[str] = None, *,
                            unix_domain_socket_path: Optional[str] = None) -> None:
        """Bind and serve on the running loop (for code that runs its own asyncio loop).
        On the class, ``await HTTPServer.listen_async(on=, delegate=)`` creates, starts and
        returns a server, as ``HTTPServer.listen(on=, delegate=)``."""
        if self._server is not None:
            raise RuntimeError("this server is already listening; stop() it first")
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.address = address
        self.unix_domain_socket_path = unix_domain_socket_path
        try:
            serving = self.serving = ServingState(
                options=self.options, loop=loop, loop_thread=note_loop_thread(loop),
                dispatch=make_dispatch(self._delegate, loop),
                client_connection_failed=self._client_connection_failed,
                ssl_context=self.ssl_config.ssl_context() if self.ssl_config is not None else None,
                max_requests=self.keep_alive_state.max_requests,
                unix_domain_socket_path=unix_domain_socket_path,
            )
            inherited, self._inherited_sockets = self._inherited_sockets, None
            if inherited is not None:  # a worker process: serve the sockets bound before the fork
                self._server = await _serve_on(loop, lambda: HTTPConnection(serving), inherited)
            elif unix_domain_socket_path is not None:
                self._server = await loop.create_unix_server(
                    lambda: HTTPConnection(serving), path=unix_domain_socket_path, backlog=1024)
            else:
                self._server = await loop.create_server(
                    lambda: HTTPConnection(serving), host=address, port=on, backlog=1024,
                    reuse_address=True, reuse_port=self.allow_port_reuse or None)
        except BaseException as exc:
            self.state = ServerState.FAILED
            self._fire("failed", exc)
            raise
        if unix_domain_socket_path is None:
            sockets = self._server.sockets or ()
            for sock in sockets:
                if sock.family in (socket.AF_INET, socket.AF_INET6):
                    self.port = sock.getsockname()[1]
                    break
        self.state = ServerState.STARTED
        ListenerGroup.track(self)
        self._schedule_sweep()
        if inherited is not None:
            return  # "started" ran once, when the port was bound before the fork
        where = f"socket path {unix_domain_socket_path}" if unix_domain_socket_path else f"port {self.port}"
        _log.info("Listening on %s", where)
        self._fire("started")

    async def _listen_async_new(cls, on: int = 0, address: Optional[str] = None, *,  # type: ignore[misc]
                                delegate: Optional[ServerDelegate],
                                unix_domain_socket_path: Optional[str] = None) -> "HTTPServer":
        server = cls()
        server.delegate = delegate
        await server.listen_async(on, address, unix_domain_socket_path=unix_domain_socket_path)
        return server

    listen_async = _StaticOrInstance[Callable[..., Awaitable["HTTPServer"]], Callable[..., Awaitable[None]]](
        _listen_async_new, _listen_async)

    # --- worker processes (see supervisor.py) ------------------------------------------
    # hand_over_sockets, serve_sockets and note_stopped are not Kitura API: kitura.net's
    # supervisor calls them to move a listening server into worker processes.
    def hand_over_sockets(self) -> list[socket.socket]:
        """Stop serving in this process but keep the port: close the asyncio server and
        return copies of its listening sockets, still bound and listening."""
        if self._loop is None or self._server is None:
            return []
        return run_in_loop(self._hand_over(), self._loop, timeout=30 + self.options.shutdown_timeout)

    async def _hand_over(self) -> list[socket.socket]:
        server, self._server = self._server, None
        sockets = [socket.socket(fileno=os.dup(sock.fileno())) for sock in server.sockets or ()]  # type: ignore[union-attr]
        server.close()  # type: ignore[union-attr]
        # Connections this process accepted before the fork are finished here (the
        # sweeper goes on enforcing their deadlines meanwhile).
        await self._drain(self.options.shutdown_timeout)
        self._cancel_sweep()
        for conn in list(self._open_connections()):
            conn.shutdown()
        ListenerGroup.untrack(self)
        return sockets

    async def serve_sockets(self, sockets: list[socket.socket]) -> None:
        """Serve on listening sockets bound before the fork (a worker process, its own loop)."""
        self._inherited_sockets = sockets
        await self.listen_async(self.port or 0, self.address, unix_domain_socket_path=self.unix_domain_socket_path)

    # --- stop --------------------------------------------------------------------
    def stop(self, *, graceful: bool = False) -> None:
        """Close the listener and every open connection, and release the port.

        ``graceful=True`` drains first: no new connection is accepted, requests in
        progress get up to ``options.shutdown_timeout`` seconds to finish, WebSocket
        clients get 1001 Going Away. From another thread it returns once all is closed;
        on the server's own loop it starts the stop and returns (await ``stop_async()``).
        """
        loop = self._loop
        if loop is None or self._server is None:
            return
        if on_loop_thread(loop):
            loop.create_task(self.stop_async(graceful=graceful))
            return
        timeout = 30 + (self.options.shutdown_timeout if graceful else 0)
        try:
            run_in_loop(self.stop_async(graceful=graceful), loop, timeout=timeout)
        except (RuntimeError, concurrent.futures.CancelledError):  # the loop is already gone
            self.note_stopped()

    def schedule_stop(self, *, graceful: bool = False) -> "Optional[concurrent.futures.Future[None]]":
        """From another thread: start ``stop_async`` on the server's loop and return its
        future, or None when the loop is gone (``ListenerGroup.stop_all`` stops its servers
        in parallel this way; not Kitura API)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return None
        try:
            return asyncio.run_coroutine_threadsafe(self.stop_async(graceful=graceful), loop)
        except RuntimeError:  # closed meanwhile
            return None

    async def stop_async(self, *, graceful: bool = False) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if graceful:
            await self._drain(self.options.shutdown_timeout)  # deadlines still swept meanwhile
        self._cancel_sweep()
        for conn in list(self._open_connections()):
            try:
                conn.shutdown()
            except Exception:  # noqa: BLE001
                _log.exception("Error closing a connection")
        try:
            await asyncio.wait_for(server.wait_closed(), 5)
        except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - closing is best effort past this
            pass
        self.note_stopped()

    def _open_connections(self) -> set[Any]:
        """The live set of open connections (empty before the first listen)."""
        serving = self.serving
        return serving.connections if serving is not None else set()

    async def _drain(self, grace: float) -> None:
        """Let the open connections finish for up to ``grace`` seconds (the listener is closed)."""
        connections = self._open_connections()
        if connections:
            _log.info("Draining %d connection(s) on port %s (up to %g s)", len(connections), self.port, grace)
        for conn in list(connections):
            try:
                conn.drain()
            except Exception:  # noqa: BLE001
                _log.exception("Error draining a connection")
        deadline = self._loop.time() + grace  # type: ignore[union-attr]
        while connections and self._loop.time() < deadline:  # type: ignore[union-attr]
            await asyncio.sleep(0.02)
            for conn in list(connections):
                conn.close_if_idle()
        if connections:
            _log.warning("%d connection(s) still open after %g s: closing them", len(connections), grace)

    def note_stopped(self) -> None:
        """The server has stopped: STOPPED state, out of ``ListenerGroup``, ``stopped`` callbacks."""
        self.state = ServerState.STOPPED
        ListenerGroup.untrack(self)
        _log.info("Stopped listening on port %s", self.port)
        self._fire("stopped")

    # --- timeouts -------------------------------------------------------------------
    def _schedule_sweep(self) -> None:
        options = self.options
        interval = max(0.05, min(1.0, options.header_timeout / 4, options.body_timeout / 4, options.keep_alive_timeout / 4))
        self._sweeper = self._loop.call_later(interval, self._sweep)  # type: ignore[union-attr]

    def _sweep(self) -> None:
        """Once a second: expire header and keep-alive deadlines (one timer for all
        connections), until the stop is over (``_cancel_sweep``), drain included."""
        now = self._loop.time()  # type: ignore[union-attr]
        for conn in list(self.serving.connections):  # type: ignore[union-attr]
            conn.check_deadline(now)
        if self._sweeper is not None:
            self._schedule_sweep()

    def _cancel_sweep(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

    def __repr__(self) -> str:
        return f"<HTTPServer {self.state.value} port={self.port}>"


async def _serve_on(loop: asyncio.AbstractEventLoop, factory: Callable[[], HTTPConnection],
                    sockets: list[socket.socket]) -> Any:
    """Serve listening sockets bound elsewhere; several (IPv4 and IPv6) as one server."""
    servers = []
    for sock in sockets:
        create = loop.create_unix_server if sock.family == socket.AF_UNIX else loop.create_server
        servers.append(await create(factory, sock=sock, backlog=1024))  # type: ignore[operator]
    return servers[0] if len(servers) == 1 else _Servers(servers)


class _Servers:
    """Several asyncio servers closed as one (a worker serving IPv4 and IPv6 sockets)."""

    def __init__(self, servers: list[asyncio.AbstractServer]) -> None:
        self._servers = servers

    @property
    def sockets(self) -> list[Any]:
        return [sock for server in self._servers for sock in (server.sockets or ())]

    def close(self) -> None:
        for server in self._servers:
            server.close()

    async def wait_closed(self) -> None:
        for server in self._servers:
            await server.wait_closed()
