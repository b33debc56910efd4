"""Benchmark harness for Kitura for Python (issue 6).

Run ``python -m bench --help``. Servers under ``bench/servers/`` each serve the
same roles (HTTP hello on ``/``, WebSocket echo on ``/echo``, the tutorial's
chat on ``/chat``) where the library can; load generators are ``wrk`` (HTTP)
and ``bench.wsload`` (a picows client on uvloop that verifies every message).
"""
