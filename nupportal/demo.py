"""`make demo`: the portal, a Celery worker and beat together, with no server to install.

Production runs the same three processes against PostgreSQL and Redis. The demo
runs them on the SQLite file, with kombu's filesystem transport as the broker
(messages are files in var/broker/, see README "Background jobs"), a file cache
all three share and a file mail backend (var/mail/, one file per
batch of reminder e-mails). Ctrl+C (or SIGTERM) stops all three; when one of them
exits on its own, the others are stopped too.

Run: python -m nupportal.demo --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
# Seconds a process gets to finish its current work after SIGTERM.
GRACE = 15


def demo_environment(
    base: Mapping[str, str], *, host: str, port: int
) -> dict[str, str]:
    """The environment of the three demo processes (SQLite, filesystem broker)."""
    env = {
        key: value
        for key, value in base.items()
        if key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        CELERY_BROKER_URL="filesystem://",
        NUP_BROKER_DIR=str(VAR / "broker"),
        NUP_CACHE_DIR=str(VAR / "cache"),
        EMAIL_URL=f"filemail:///{VAR / 'mail'}",  # four slashes: an absolute path
        NUP_BASE_URL=f"http://{host}:{port}",
        DJANGO_SETTINGS_MODULE="nupportal.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def commands(*, host: str, port: int) -> dict[str, list[str]]:
    python = sys.executable
    celery = str(Path(python).with_name("celery"))
    return {
        # --noreload: one process per service, so stopping it stops everything.
        "web": [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
        # Two processes: a long report does not hold up the recompute after a save.
        "worker": [
            celery, "-A", "nupportal", "worker", "--loglevel", "INFO",
            "--concurrency", "2", "--hostname", "demo@%h",
        ],
        "beat": [
            celery, "-A", "nupportal", "beat", "--loglevel", "INFO",
            "--schedule", str(VAR / "celerybeat-schedule"),
        ],
    }  # fmt: skip


def stop(processes: Mapping[str, subprocess.Popen]) -> None:
    """Stop every service and whatever it started.

    SIGTERM goes to the service itself first (Celery's worker then finishes its
    current tasks: a warm shutdown); after it has exited, or after GRACE
    seconds, what is left of its process group is killed.
    """
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + GRACE
    for process in processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):  # killed below
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=5)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has already exited
        os.killpg(process.pid, sig)


def run(*, host: str, port: int) -> int:
    for folder in ("broker", "cache", "mail"):
        (VAR / folder).mkdir(parents=True, exist_ok=True)
    env = demo_environment(os.environ, host=host, port=port)
    processes: dict[str, subprocess.Popen] = {}

    def terminate(signum, frame):  # SIGTERM to the launcher: stop like Ctrl+C
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    # Started in the background, SIGINT may arrive ignored: Ctrl+C must work.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    exit_code = 0
    try:
        for name, command in commands(host=host, port=port).items():
            # Own process group: Ctrl+C reaches the launcher, which stops the
            # services in order instead of all of them dying mid-task.
            processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=env, start_new_session=True
            )
        print(
            f"NUP Portal: http://{host}:{port}/  (web, worker and beat; "
            "demo logins in README.md; Ctrl+C stops all three)",
            flush=True,
        )
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"demo: {name} exited ({process.returncode}); stopping")
                    exit_code = process.returncode or 1
                    raise KeyboardInterrupt
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C waits too
        stop(processes)
        print("demo: stopped web, worker and beat", flush=True)
    return exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    return run(host=args.host, port=args.port)


if __name__ == "__main__":
    sys.exit(main())
