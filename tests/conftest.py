"""Shared test set-up.

Strict mode (TENSORGRAPH_STRICT=1, set by .ci/run): a skipped test fails the run, so a
missing torch, system Graphviz or dataset can never quietly switch a test off in CI.
"""

from __future__ import annotations

import os

import pytest

STRICT = os.environ.get("TENSORGRAPH_STRICT") == "1"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not STRICT:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"TENSORGRAPH_STRICT=1: {len(skipped)} test(s) skipped; strict mode fails on skips.",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
