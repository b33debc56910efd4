"""Router: route registration (Kitura's Router), and the ServerDelegate entry point.

Registration builds RouterElements (patterns compiled once). Per request
method, the Router keeps a plan: plain-string exact routes in a dict keyed by
path (one lookup), the others in a list, merged back into registration order.
A Router is also middleware, which is how ``route()`` sub-routers work.
"""
from __future__ import annotations

import asyncio
import inspect
import json as _json
import logging
import os
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import unquote

from kitura.net import ServerDelegate
from kitura.net.loop import start_coroutine, worker_pool

from .codable import CodableRoute, codable_shape, make_codable_element
from .coders import BodyDecoder, BodyEncoder, default_decoders, default_encoders
from .element import HandlerEntry, RouterElement, RouterMethod
from .errors import RequestError
from .media_type import MediaType
from .paths import absolute_path
from .request import RouterRequest
from .response import RouterResponse
from .steps import Dispatch, drive_on_worker
from .swagger import swagger_document
from .templating import TemplateEngine, TemplatingError
from .walker import record_error, serve_on_worker, walk, walk_mounted
from .workers import submit_to_worker_soon

__all__ = ["Router"]

logger = logging.getLogger("kitura.router")

_WELCOME_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Kitura for Python</title></head>
<body style="font-family: sans-serif; text-align: center; margin-top: 15%">
<h1>Welcome to Kitura for Python</h1>
<p>Your server is running. Register routes on the Router to serve your own pages.</p>
</body></html>
"""


def _flatten(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, (list, tuple)):
            out.extend(_flatten(item))
        elif item is not None:
            out.append(item)
    return out


def _middleware_entry(mw: Any) -> HandlerEntry:
    if isinstance(mw, Router):
        return HandlerEntry(mw.handle, Dispatch.ROUTER, name=repr(mw))
    handle = getattr(mw, "handle", None)
    if handle is None:
        if not callable(mw):
            raise TypeError(f"middleware must have handle(request, response, next) or be callable: {mw!r}")
        return HandlerEntry(mw)
    return HandlerEntry(handle, name=type(mw).__name__)


# Bumped by every registration in any router, so cached answers about a router
# tree (are all its handlers async?) notice changes made in its sub-routers.
_generation = 0


def _verb(method: RouterMethod) -> Callable[..., Any]:
    def verb(self: Router, path: Any = None, *handlers: Any, handler: Any = None, middleware: Any = None,
             allow_partial_match: bool = True) -> Any:
        if handler is not None:
            handlers = handlers + (handler,)
        return self._register(method, path, handlers, middleware, allow_partial_match)
    verb.__name__ = verb.__qualname__ = method.name.lower()
    verb.__doc__ = (f"Handlers or middleware for {method.value} requests: ``{method.name.lower()}(path, h1, h2)``, "
                    f"``{method.name.lower()}(path, middleware=m)``, or the decorator ``@router.{method.name.lower()}(path)``.")
    return verb


class Router(ServerDelegate):
    """Routes requests to handlers; pass it to ``Kitura.add_http_server(with_=router)``."""

    def __init__(self, merge_parameters: bool = False, enable_welcome_page: bool = True) -> None:
        self.merge_parameters = merge_parameters
        self.enable_welcome_page = enable_welcome_page
        self.elements: list[RouterElement] = []
        #: ``parameter()``'s handlers by parameter name (the walk runs them; sub-routers inherit them).
        self.parameter_handlers: dict[str, list[HandlerEntry]] = {}
        self._plans: dict[RouterMethod, tuple[dict[str, list[RouterElement]], list[RouterElement]]] = {}
        self._template_engines: dict[str, TemplateEngine] = {}
        self._default_engine_extension: str | None = None
        self._views_path = "./Views/"
        self._loop_mode: tuple[int, bool] | None = None
        #: Codable bodies: decoded by the decoder for the request's Content-Type, encoded by the
        #: encoder its Accept header prefers (values are factories, as Kitura's closures).
        self.encoders: dict[MediaType, Callable[[], BodyEncoder]] = default_encoders()
        self.decoders: dict[MediaType, Callable[[], BodyDecoder]] = default_decoders()
        self.default_response_media_type: MediaType = MediaType.json
        #: The Codable routes registered here, in order (what swagger_json describes).
        self.codable_routes: list[CodableRoute] = []

    def __repr__(self) -> str:
        return f"<Router {len(self.elements)} elements>"

    @property
    def swagger_json(self) -> str | None:
        """The Swagger 2.0 document of this router's Codable routes, as JSON text (Kitura's ``swaggerJSON``)."""
        document = swagger_document(self.codable_routes, [m.description for m in self.decoders],
                                    [m.description for m in self.encoders])
        return _json.dumps(document, indent=2, sort_keys=True)

    # -- registration ------------------------------------------------------
    def _add_element(self, element: RouterElement) -> None:
        global _generation
        self.elements.append(element)
        self._plans.clear()
        _generation += 1

    def _runs_on_loop(self) -> bool:
        """True when no handler of this router tree is a plain ``def``: then requests are
        walked on the event loop; otherwise on a worker thread (see walker.py)."""
        cached = self._loop_mode
        if cached is not None and cached[0] == _generation:
            return cached[1]
        result = not self._needs_worker(set())
        self._loop_mode = (_generation, result)
        return result

    def _needs_worker(self, seen: set[int]) -> bool:
        """True when a handler of this router tree wants a worker thread (Dispatch.needs_worker)."""
        if id(self) in seen:
            return False
        seen.add(id(self))
        entries = [e for el in self.elements for e in el.handlers]
        entries += [e for hs in self.parameter_handlers.values() for e in hs]
        for entry in entries:
            if entry.dispatch is Dispatch.ROUTER:
                if entry.fn.__self__._needs_worker(seen):
                    return True
            elif entry.dispatch.needs_worker:
                return True
        return False

    def _register(self, method: RouterMethod, path: Any, handlers: tuple[Any, ...], middleware: Any,
                  allow_partial_match: bool) -> Any:
        if path is not None and not isinstance(path, str):
            handlers = (path,) + handlers
            path = None
        handler_list = _flatten(handlers)
        if middleware is not None:
            mws = _flatten([middleware])
            if handler_list:
                raise TypeError("pass handlers or middleware=, not both")
            self._add_element(RouterElement(method, path, [_middleware_entry(m) for m in mws],
                                            allow_partial_match=allow_partial_match,
                                            merge_parameters=self.merge_parameters))
            return self
        if not handler_list:
            def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
                self._add_handlers(method, path, [fn])
                return fn
            return decorator
        self._add_handlers(method, path, handler_list)
        return self

    def _add_handlers(self, method: RouterMethod, path: str | None, handlers: list[Any]) -> None:
        entries: list[HandlerEntry] = []
        for h in handlers:
            if isinstance(h, Router) or (not inspect.isroutine(h) and hasattr(h, "handle")):
                entries.append(_middleware_entry(h))
            elif not callable(h):
                raise TypeError(f"a route handler must be callable: {h!r}")
            elif (codable_args := codable_shape(method, h)) is not None:
                if entries:
                    self._add_element(RouterElement(method, path, entries, False, self.merge_parameters))
                    entries = []
                self._add_element(make_codable_element(self, method, path, h, codable_args))
            else:
                entries.append(HandlerEntry(h))
        if entries:
            self._add_element(RouterElement(method, path, entries, False, self.merge_parameters))

    def all(self, path: Any = None, *handlers: Any, handler: Any = None, middleware: Any = None,
            allow_partial_match: bool = True) -> Any:
        """Handlers for every method; ``all(middleware=m)`` runs ``m`` for every request.

        Like every verb: ``router.get(path, h1, h2)`` returns the router;
        ``router.get(path, middleware=m, allow_partial_match=True)`` adds middleware
        (matched by prefix); ``@router.get(path)`` is the decorator form; Kitura's label
        also works: ``router.get(path, handler=[h1, h2])``.
        """
        if handler is not None:
            handlers = handlers + (handler,)
        return self._register(RouterMethod.ALL, path, handlers, middleware, allow_partial_match)

    # -- one method per Kitura verb (Kitura generates them with a script) ----
    get = _verb(RouterMethod.GET)
    post = _verb(RouterMethod.POST)
    put = _verb(RouterMethod.PUT)
    head = _verb(RouterMethod.HEAD)
    delete = _verb(RouterMethod.DELETE)
    options = _verb(RouterMethod.OPTIONS)
    trace = _verb(RouterMethod.TRACE)
    copy = _verb(RouterMethod.COPY)
    lock = _verb(RouterMethod.LOCK)
    mk_col = _verb(RouterMethod.MK_COL)
    move = _verb(RouterMethod.MOVE)
    purge = _verb(RouterMethod.PURGE)
    prop_find = _verb(RouterMethod.PROP_FIND)
    prop_patch = _verb(RouterMethod.PROP_PATCH)
    unlock = _verb(RouterMethod.UNLOCK)
    report = _verb(RouterMethod.REPORT)
    mk_activity = _verb(RouterMethod.MK_ACTIVITY)
    checkout = _verb(RouterMethod.CHECKOUT)
    merge = _verb(RouterMethod.MERGE)
    m_search = _verb(RouterMethod.M_SEARCH)
    notify = _verb(RouterMethod.NOTIFY)
    subscribe = _verb(RouterMethod.SUBSCRIBE)
    unsubscribe = _verb(RouterMethod.UNSUBSCRIBE)
    patch = _verb(RouterMethod.PATCH)
    search = _verb(RouterMethod.SEARCH)
    connect = _verb(RouterMethod.CONNECT)

    def error(self, *handlers: Any, handler: Any = None, middleware: Any = None) -> Any:
        """Handlers that run once a handler has raised (``response.error`` is set).

        ``router.error(h)``, ``router.error(middleware=m)``, or ``@router.error()``.
        """
        if handler is not None:
            handlers = handlers + (handler,)
        return self._register(RouterMethod.ERROR, None, handlers, middleware, True)

    def route(self, route: str, merge_parameters: bool = False, allow_partial_match: bool = True) -> "Router":
        """A sub-router mounted at ``route``; its paths are relative to it."""
        sub = Router(merge_parameters=merge_parameters, enable_welcome_page=False)
        sub.parameter_handlers = {k: list(v) for k, v in self.parameter_handlers.items()}
        sub._views_path = self._views_path
        self.all(route, middleware=sub, allow_partial_match=allow_partial_match)
        return sub

    def parameter(self, names: str | Sequence[str], *handler_args: Any, handler: Any = None,
                  handlers: Any = None) -> Any:
        """``handler(request, response, value, next)`` runs once per request before
        the first route that captures the named parameter: ``parameter("id", h)``,
        ``parameter(["id"], handlers=[h1, h2])``, or the decorator ``@router.parameter("id")``."""
        name_list = [names] if isinstance(names, str) else list(names)
        def add(hs: list[Any]) -> None:
            global _generation
            for name in name_list:
                self.parameter_handlers.setdefault(name, []).extend(HandlerEntry(h) for h in hs)
            _generation += 1
        handler_list = _flatten(handler_args + (handler, handlers))
        if not handler_list:
            def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
                add([fn])
                return fn
            return decorator
        add(handler_list)
        return self

    # -- templates ---------------------------------------------------------
    @property
    def views_path(self) -> str:
        """Where templates are loaded from (``./Views/`` by default)."""
        return self._views_path

    @views_path.setter
    def views_path(self, path: str) -> None:
        self._views_path = path
        for engine in self._template_engines.values():
            self._set_root_paths(engine)

    def _set_root_paths(self, engine: TemplateEngine) -> None:
        engine.set_root_paths([absolute_path(self._views_path)])

    def add(self, template_engine: TemplateEngine, for_file_extensions: Sequence[str] = (),
            use_default_file_extension: bool = True) -> "Router":
        """Register a template engine for its own file extension and/or others."""
        if use_default_file_extension:
            self._template_engines[template_engine.file_extension] = template_engine
        for ext in for_file_extensions:
            self._template_engines[ext.lstrip(".")] = template_engine
        self._set_root_paths(template_engine)
        return self

    def set_default(self, template_engine: TemplateEngine | None) -> "Router":
        """The engine used for templates named without an extension (``render("index")``)."""
        if template_engine is None:
            self._default_engine_extension = None
            return self
        self._default_engine_extension = template_engine.file_extension
        return self.add(template_engine)

    def _template_extension(self, template: str) -> tuple[str, str]:
        base = template.rsplit("/", 1)[-1]
        if "." in base:
            return base.rsplit(".", 1)[1], template
        ext = self._default_engine_extension or ""
        return ext, f"{template}.{ext}" if ext else template

    def get_template_engine(self, template: str) -> TemplateEngine | None:
        ext, _ = self._template_extension(template)
        return self._template_engines.get(ext)

    def render_template(self, template: str, context: dict[str, Any], options: Any = None) -> str:
        """Render a template from ``views_path`` (what ``response.render`` calls)."""
        ext, resource = self._template_extension(template)
        engine = self._template_engines.get(ext)
        if engine is None:
            if not ext:
                raise TemplatingError("No default template engine set and no file extension given for "
                                      f"the template {template!r}")
            raise TemplatingError(f"No template engine defined for the extension {ext!r}")
        file_path = os.path.join(absolute_path(self._views_path), unquote(resource))
        return engine.render(file_path, context, options, resource)

    # -- matching plan -----------------------------------------------------
    def candidate_elements(self, method: RouterMethod, path: str) -> list[RouterElement]:
        """The elements that may match a ``method`` request for ``path``, in order (the
        walk, walker.py, matches each in turn)."""
        plan = self._plans.get(method)
        if plan is None:
            plan = self._plans[method] = self._build_plan(method)
        exact, others = plan
        hits = exact.get(path)
        return others if hits is None else hits

    def _build_plan(self, method: RouterMethod) -> tuple[dict[str, list[RouterElement]], list[RouterElement]]:
        """For one method: {exact path: every candidate element, in order}, and the
        candidates of any other path. Both lists are built once per registration change."""
        accepted = {method, RouterMethod.ALL, RouterMethod.ERROR}
        if method is RouterMethod.HEAD:
            accepted.add(RouterMethod.GET)      # HEAD falls back to GET handlers (RFC 9110 9.3.2)
        elements = [el for el in self.elements if el.method in accepted]
        others = [el for el in elements if el.exact_path is None]
        exact: dict[str, list[RouterElement]] = {}
        for el in elements:
            if el.exact_path is not None and el.exact_path not in exact:
                path = el.exact_path
                exact[path] = [e for e in elements if e.exact_path is None or e.exact_path == path]
        return exact, others

    # -- serving -----------------------------------------------------------
    async def handle(self, request: Any, response: Any, next: Callable[[], None] | None = None) -> None:
        """The ServerDelegate entry point (``handle(request, response)`` from kitura.net),
        or, with ``next``, the middleware entry point of a sub-router."""
        if next is not None:
            await self._handle_as_middleware(request, response, next)
            return
        req = RouterRequest(request)
        res = RouterResponse(response, req, [self])
        if not self._runs_on_loop():
            self._walk_on_worker(req, res, asyncio.get_running_loop())
            return
        await self._walk_on_loop(req, res)

    def loop_entry(self, loop: asyncio.AbstractEventLoop) -> Callable[[Any, Any], None] | None:
        """``ServerDelegate.loop_entry``: kitura.net calls the returned function on the loop
        thread instead of starting ``handle`` as a coroutine (saves the coroutine per
        request). None when a subclass overrides ``handle``, which must then be called."""
        if type(self).handle is not Router.handle:
            return None
        # The pool is one object for the process (a forked child resets it in place).
        dispatch_soon = worker_pool().dispatch_soon
        complete, failed = self._complete, self._failed

        def serve(request: Any, response: Any) -> None:
            req = RouterRequest(request)
            res = RouterResponse(response, req, [self])
            cached = self._loop_mode    # _runs_on_loop(), its cached answer inlined
            on_loop = cached[1] if cached is not None and cached[0] == _generation else self._runs_on_loop()
            if not on_loop:
                # _walk_on_worker, inlined (frames less per request): one hop; the walk's
                # WalkDriver is made on the worker only if the walk must wait.
                dispatch_soon(loop, drive_on_worker, serve_on_worker(self, req, res, complete), loop, res,
                              failed, req, res)
                return
            start_coroutine(self._walk_on_loop(req, res), Router._failed, self, req, res)  # no Task unless it suspends
        return serve

    def _walk_on_worker(self, req: RouterRequest, res: RouterResponse, loop: asyncio.AbstractEventLoop) -> None:
        """A plain def somewhere: walk the whole chain on one worker thread (one hop);
        the response is ended from there."""
        submit_to_worker_soon(loop, drive_on_worker, serve_on_worker(self, req, res, self._complete), loop, res,
                              self._failed, req, res)

    async def _walk_on_loop(self, req: RouterRequest, res: RouterResponse) -> None:
        try:
            fell_through = await walk(self, req, res)
        except Exception as exc:  # noqa: BLE001 - a bug in a handler's plumbing, never a dropped connection
            self._failed(req, res, exc)
            return
        self._complete(req, res, fell_through)

    def _complete(self, req: RouterRequest, res: RouterResponse, fell_through: bool) -> None:
        if fell_through and not res.invoked_end:
            try:
                # The chain ran off its end: answer what the handlers left (_finish, inlined).
                error = res.error
                if error is not None or (res.raw_status == -1 and not res.invoked_send):
                    self._finish(req, res)
                else:
                    res.end()
            except Exception:  # noqa: BLE001
                logger.exception("Failed to send the response to the client")
                if not res.invoked_end:
                    res.invoked_end = True
                    res.server_response.status_code = 500
                    res.server_response.end()

    def _failed(self, req: RouterRequest, res: RouterResponse, exc: BaseException) -> None:
        record_error(res, exc, "router")
        self._complete(req, res, True)

    async def _handle_as_middleware(self, request: RouterRequest, response: RouterResponse,
                                    next: Callable[[], None]) -> None:
        await walk_mounted(self, request, response, next)

    def _finish(self, req: RouterRequest, res: RouterResponse) -> None:
        error = res.error
        if error is not None:
            if not res.invoked_send:
                if isinstance(error, RequestError):
                    error.apply_to(res)
                elif res.raw_status == -1:
                    res.raw_status = 500
        elif res.raw_status == -1 and not res.invoked_send:
            if self.enable_welcome_page and req.path == "/" and req.method in (RouterMethod.GET, RouterMethod.HEAD):
                res.headers["Content-Type"] = "text/html; charset=utf-8"
                res.send(_WELCOME_PAGE)
            else:
                res.status(404).send(f"Cannot {req.method} {req.path}.")
        res.end()
