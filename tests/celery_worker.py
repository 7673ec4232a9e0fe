"""A real Celery worker subprocess for tests on PostgreSQL + Redis (CI).

Tests using it are marked `postgres` and `redis` (tests/conftest.py skips them
without those servers, and fails them in CI). The worker runs on a private queue against the test database, so it sees the rows the
test commits (use `transactional_db`) and no other worker takes its tasks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within 15 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def test_database_url() -> str:
    """DATABASE_URL of the database this test runs on (pytest-django's test_<name>)."""
    s = connection.settings_dict
    auth = s["USER"] or ""
    if s["PASSWORD"]:
        auth += f":{s['PASSWORD']}"
    host = s["HOST"] or "127.0.0.1"
    port = s["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


test_database_url.__test__ = False  # not a test, despite its name


def private_queue(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def route_to(monkeypatch, task, queue: str) -> None:
    """Send this test's publishes of `task` to `queue` (other workers ignore it)."""
    original = task.apply_async
    monkeypatch.setattr(
        task,
        "apply_async",
        lambda *args, **kwargs: original(*args, queue=queue, **kwargs),
    )


@contextmanager
def celery_worker(
    queue: str, *, log_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """Run `celery worker` on `queue` until the block ends; print its log tail."""
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "nupportal.settings",
        **(extra_env or {}),
    }
    log = log_path.open("w+")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "nupportal",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        stop_process(process)
        log.seek(0)
        print(log.read()[-4000:])  # shown by pytest when the test fails
        log.close()
