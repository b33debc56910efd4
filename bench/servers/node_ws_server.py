"""Node.js peer: bench/node/server.js (node:http hello on /, ws echo on /echo
and chat on /chat; one process, native bufferutil, compression off).

``prepare()`` installs bench/node/'s packages from its lock file with
``npm ci`` when they are missing or not the locked versions (the harness calls
it once per run); running this module replaces the process with node (same
pid, so the harness's CPU, memory and stop apply to node itself)."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

NODE_DIR = pathlib.Path(__file__).resolve().parents[1] / "node"
NPM_CI_TIMEOUT = 300


def _installed_as_locked() -> bool:
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    for key, entry in lock.get("packages", {}).items():
        if not key.startswith("node_modules/"):
            continue
        meta = NODE_DIR / key / "package.json"
        if not meta.exists() or json.loads(meta.read_text()).get("version") != entry.get("version"):
            return False
    return True


def prepare() -> str | None:
    """None when node and bench/node's packages are ready, else why not."""
    if shutil.which("node") is None:
        return "node not found (install Node.js)"
    if _installed_as_locked():
        return None
    if shutil.which("npm") is None:
        return "bench/node/node_modules is not installed and npm is not found"
    try:
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                           capture_output=True, text=True, timeout=NPM_CI_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"npm ci in bench/node did not finish within {NPM_CI_TIMEOUT} s"
    if r.returncode != 0:
        return f"npm ci in bench/node failed ({r.returncode}): {(r.stderr or r.stdout)[-400:]}"
    if not _installed_as_locked():
        return "npm ci in bench/node did not install the locked versions"
    return None


def main() -> None:
    from bench.servers._common import parse_args

    args = parse_args()
    reason = prepare()
    if reason:
        raise SystemExit(f"node_ws_server: {reason}")
    node = shutil.which("node")
    os.execv(node, [node, str(NODE_DIR / "server.js"), "--port", str(args.port), "--host", args.host])


if __name__ == "__main__":
    main()
