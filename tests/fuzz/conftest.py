"""Shared settings of the fuzz tests: a fixed, small budget, so the suite stays fast.

Long runs: the atheris harness under fuzz/ (see fuzz/README.md)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

#: Every fuzz test: at most this many examples, no per-example deadline.
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
