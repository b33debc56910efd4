"""``python -m kitura module:router``: serve a Router (or any ServerDelegate) from the
command line, as uvicorn serves an ASGI app.

    python -m kitura myapp:router --port 8080 --workers 4

``module:attr`` is imported from the current directory (``attr`` may be dotted); the
module's top level runs once, in this process, before the workers are forked.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, Optional, Sequence

from kitura.log import HeliumLogger, LoggerMessageType


def _workers(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--workers takes a number >= 1 or 'auto', not {value!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError("--workers takes a number >= 1 or 'auto'")
    return count


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kitura", description="Serve a Kitura Router or ServerDelegate.")
    p.add_argument("app", help="module:attr, e.g. myapp:router (a Router or any object with handle(request, response))")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 for every IPv4 interface)")
    p.add_argument("--port", type=int, default=8080, help="port to bind (default 8080; 0 picks a free one)")
    p.add_argument("--uds", default=None, help="serve on this Unix domain socket path instead of a port")
    p.add_argument("--workers", type=_workers, default=1, help="worker processes, or 'auto' for one per core (default 1)")
    p.add_argument("--reuse-port", action="store_true",
                   help="each worker has its own SO_REUSEPORT socket instead of sharing one")
    p.add_argument("--shutdown-timeout", type=float, default=None,
                   help="seconds SIGTERM lets requests in progress finish (default 10)")
    p.add_argument("--log-level", default="info", choices=[t.name.lower() for t in LoggerMessageType],
                   help="HeliumLogger level (default info)")
    return p


def load_app(spec: str) -> Any:
    """Import ``module:attr`` (from the current directory first)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise SystemExit(f"python -m kitura: expected module:attr (e.g. myapp:router), got {spec!r}")
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name != module_name:
            raise
        raise SystemExit(f"python -m kitura: cannot import module {module_name!r}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SystemExit(f"python -m kitura: module {module_name!r} has no attribute {attr!r}") from None
    if not callable(getattr(obj, "handle", None)):
        raise SystemExit(f"python -m kitura: {spec} is a {type(obj).__name__}, not a Router or ServerDelegate "
                         "(an object with handle(request, response))")
    return obj


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parser().parse_args(argv)
    HeliumLogger.use(LoggerMessageType[args.log_level.upper()])
    delegate = load_app(args.app)
    from kitura.app import Kitura
    from kitura.net import ServerOptions

    options = ServerOptions()
    if args.shutdown_timeout is not None:
        options.shutdown_timeout = args.shutdown_timeout
    if args.uds:
        Kitura.add_http_server(with_=delegate, on_unix_domain_socket=args.uds, options=options)
    else:
        Kitura.add_http_server(on_port=args.port, on_address=args.host, with_=delegate,
                               allow_port_reuse=args.reuse_port, options=options)
    Kitura.run(workers=args.workers)


if __name__ == "__main__":
    main()
