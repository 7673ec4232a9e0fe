"""What a test does when something it needs is missing: skip locally, fail in CI.

A check that cannot run must never look like a green build. `.ci/run` exports
CI=true; there a missing browser, PostgreSQL, Redis or research-data folder is a
failure, while a developer's laptop without them skips with the reason.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def missing_tool(reason: str) -> None:
    """Skip locally, fail in CI: a check that cannot run must not pass silently."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing tool is a failure)", pytrace=False)
    pytest.skip(reason)
