"""`make demo`: web, worker and beat on a filesystem broker, stopped together."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from nupportal import demo


def test_the_demo_runs_without_servers_and_a_real_broker(tmp_path):
    env = demo.demo_environment(
        {"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://x", "HOME": "/h"},
        host="127.0.0.1",
        port=8011,
    )
    assert "DATABASE_URL" not in env and "REDIS_URL" not in env
    assert env["CELERY_BROKER_URL"] == "filesystem://"  # not eager
    assert env["EMAIL_URL"].startswith("filemail:////")  # an absolute folder
    assert env["NUP_BASE_URL"] == "http://127.0.0.1:8011" and env["HOME"] == "/h"
    names = demo.commands(host="127.0.0.1", port=8011)
    assert set(names) == {"web", "worker", "beat"}
    assert "--noreload" in names["web"]


def test_stopping_the_demo_leaves_no_process_behind():
    # A service that starts a child of its own, like celery's pool processes.
    script = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(child.pid, flush=True); time.sleep(60)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    child = int(process.stdout.readline())
    started = time.monotonic()
    demo.stop({"service": process})
    assert process.poll() is not None
    assert time.monotonic() - started < demo.GRACE
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the service's child process outlived the demo")
