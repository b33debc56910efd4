"""What is measured: the servers, the cases, the issue's targets."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServerSpec:
    name: str
    label: str
    module: str
    roles: frozenset            # "http", "ws", "deflate", "http-idle"
    mode: str | None = None
    ours: bool = False
    needs: tuple = ()           # what must import for it to run: ("kitura.net", "kitura.websocket:WebSocket")
    prepare: str | None = None  # "module:function" run once per run: None when ready, else why it cannot run


SERVERS: dict[str, ServerSpec] = {s.name: s for s in [
    ServerSpec("bare", "bare uvloop+httptools Protocol", "bench.servers.bare", frozenset({"http", "http-idle"})),
    ServerSpec("uvicorn", "uvicorn (httptools, uvloop), ASGI", "bench.servers.uvicorn_app",
               frozenset({"http", "http-idle"})),
    ServerSpec("aiohttp", "aiohttp (uvloop)", "bench.servers.aiohttp_server",
               frozenset({"http", "http-idle", "ws", "deflate"})),
    ServerSpec("websockets", "websockets, asyncio (uvloop)", "bench.servers.websockets_server",
               frozenset({"ws", "deflate"})),
    ServerSpec("picows", "picows (uvloop)", "bench.servers.picows_server", frozenset({"ws"})),
    ServerSpec("socketify", "socketify (uWebSockets, C++)", "bench.servers.socketify_server",
               frozenset({"http", "http-idle", "ws"}), needs=("socketify:App",)),
    ServerSpec("granian", "granian RSGI (Rust), one worker", "bench.servers.granian_server",
               frozenset({"http", "http-idle", "ws"}), needs=("granian.server.embed:Server",)),
    ServerSpec("node-ws", "Node.js: ws + bufferutil, node:http", "bench.servers.node_ws_server",
               frozenset({"http", "http-idle", "ws"}), prepare="bench.servers.node_ws_server:prepare"),
    ServerSpec("kitura-async", "ours: async def delegate / WebSocket", "bench.servers.kitura_server",
               frozenset({"http", "http-idle", "ws", "deflate"}), mode="async", ours=True,
               needs=("kitura.net:HTTP",)),
    ServerSpec("kitura-sync", "ours: def delegate (worker threads)", "bench.servers.kitura_server",
               frozenset({"http"}), mode="sync", ours=True, needs=("kitura.net:HTTP",)),
    ServerSpec("kitura-router", "ours: Router", "bench.servers.kitura_server",
               frozenset({"http"}), mode="router", ours=True, needs=("kitura.net:HTTP", "kitura:Router")),
]}

WS_NEEDS = ("kitura.websocket:WebSocket",)


@dataclass(frozen=True)
class CaseSpec:
    name: str
    title: str
    role: str
    kind: str                   # "http", "ws", "mem-ws", "mem-http"
    unit: str                   # what `value` is
    higher_is_better: bool = True
    args: dict = field(default_factory=dict)


CASES: dict[str, CaseSpec] = {c.name: c for c in [
    CaseSpec("http-hello", "HTTP hello world, keep-alive, 50 connections", "http", "http", "req/s",
             args={"conns": 50}),
    CaseSpec("ws-echo-32", "WebSocket echo, 32-byte text, 50 connections ping-pong", "ws", "ws", "msg/s",
             args={"case": "echo", "path": "/echo", "conns": 50, "size": 32}),
    CaseSpec("ws-echo-64k", "WebSocket echo, 64 KiB binary, 50 connections ping-pong", "ws", "ws", "GB/s",
             args={"case": "echo", "path": "/echo", "conns": 50, "size": 65536, "binary": True}),
    CaseSpec("ws-connect", "WebSocket connect + handshake + close, 50 at a time", "ws", "ws", "conn/s",
             args={"case": "connect", "path": "/echo", "conns": 50}),
    CaseSpec("ws-broadcast", "Chat broadcast: 1 sender, 200 receivers (tutorial ChatService), delivered",
             "ws", "ws", "msg/s", args={"case": "broadcast", "path": "/chat", "conns": 200, "size": 32}),
    CaseSpec("ws-deflate-32", "WebSocket echo with permessage-deflate, 32-byte text", "deflate", "ws", "msg/s",
             args={"case": "echo", "path": "/echo", "conns": 50, "size": 32, "deflate": True}),
    CaseSpec("ws-deflate-64k", "WebSocket echo with permessage-deflate, 64 KiB binary (text-like, ~3:1)",
             "deflate", "ws", "MB/s",
             args={"case": "echo", "path": "/echo", "conns": 50, "size": 65536, "binary": True,
                   "deflate": True}),
    CaseSpec("mem-ws-idle", "Resident memory per idle WebSocket connection (10,000 open)", "ws", "mem-ws",
             "KiB/conn", higher_is_better=False, args={"conns": 10000}),
    CaseSpec("mem-http-idle", "Resident memory per idle keep-alive HTTP connection (10,000 open)",
             "http-idle", "mem-http", "KiB/conn", higher_is_better=False, args={"conns": 10000}),
]}

# The issue's targets: (case, ours, peer, minimum ratio ours/peer) or a ceiling.
TARGETS = [
    ("http-hello", "kitura-async", "bare", 0.6),
    ("http-hello", "kitura-sync", "uvicorn", 1.0),
    ("http-hello", "kitura-router", "uvicorn", 1.0),
    ("ws-echo-32", "kitura-async", "aiohttp", 1.0),
    ("ws-echo-32", "kitura-async", "picows", 0.8),
    ("ws-echo-64k", "kitura-async", "picows", 1.0),
    ("ws-connect", "kitura-async", "aiohttp", 1.5),
    ("ws-broadcast", "kitura-async", "picows", 1.0),
]
CEILINGS = [
    ("mem-ws-idle", "kitura-async", 10.0),      # at most 10 KiB resident per idle WebSocket connection
]

# Issue 15's targets: ratios against the C-backed peers (socketify, granian, Node's ws).
# "At or above every peer" is one row per peer that runs the case (see peers_of).
_EVERY_PEER = ("socketify", "picows", "node-ws", "granian", "aiohttp", "websockets", "uvicorn")


def peers_of(case: str, names: tuple[str, ...] = _EVERY_PEER) -> list[str]:
    """The servers among ``names`` that run ``case`` (its role is one of theirs)."""
    role = CASES[case].role
    return [n for n in names if role in SERVERS[n].roles]


TARGETS_15 = [
    ("http-hello", "kitura-async", "socketify", 1.0),
    ("http-hello", "kitura-async", "bare", 0.6),
    ("http-hello", "kitura-sync", "uvicorn", 1.5),
    ("http-hello", "kitura-router", "uvicorn", 1.2),
    ("ws-connect", "kitura-async", "socketify", 1.0),
    ("ws-broadcast", "kitura-async", "socketify", 1.0),
    *[("ws-echo-32", "kitura-async", peer, 1.0) for peer in peers_of("ws-echo-32")],
    *[("ws-echo-64k", "kitura-async", peer, 1.0) for peer in peers_of("ws-echo-64k")],
]
CEILINGS_15 = [
    ("mem-ws-idle", "kitura-async", 6.0),       # at most 6 KiB resident per idle WebSocket connection
    ("mem-http-idle", "kitura-async", 4.0),     # at most 4 KiB per idle keep-alive HTTP connection
]

#: The targets the report prints, newest first: (title, ratio targets, ceilings).
TARGET_SETS = [
    ("issue 15", TARGETS_15, CEILINGS_15),
    ("issue 6", TARGETS, CEILINGS),
]

# The issue's medians for the peers, "measured here" (another run, another day).
ISSUE_PEER_NUMBERS = {
    ("http-hello", "bare"): 131_000, ("http-hello", "uvicorn"): 41_000, ("http-hello", "aiohttp"): 35_000,
    ("ws-echo-32", "websockets"): 52_000, ("ws-echo-32", "aiohttp"): 92_000, ("ws-echo-32", "picows"): 126_000,
    ("ws-echo-64k", "websockets"): 1.44, ("ws-echo-64k", "aiohttp"): 1.68, ("ws-echo-64k", "picows"): 2.23,
    ("ws-connect", "websockets"): 3_800, ("ws-connect", "aiohttp"): 5_600, ("ws-connect", "picows"): 10_600,
    ("ws-broadcast", "websockets"): 156_000, ("ws-broadcast", "aiohttp"): 177_000,
    ("ws-broadcast", "picows"): 243_000,
    ("mem-ws-idle", "websockets"): 13.0,
}

SMOKE_SERVERS = ("aiohttp", "kitura-async", "kitura-sync", "kitura-router", "socketify", "granian", "node-ws")
# The C-backed peers (issue 15) are smoked on these cases only, to keep the smoke run short.
SMOKE_PEER_CASES = {"socketify": ("http-hello", "ws-echo-32", "ws-connect", "ws-broadcast"),
                    "granian": ("http-hello", "ws-echo-32", "ws-connect", "ws-broadcast"),
                    "node-ws": ("http-hello", "ws-echo-32", "ws-connect", "ws-broadcast")}
