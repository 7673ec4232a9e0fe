"""SQLite (`make demo`) takes concurrent saves, reads and a report without locking errors.

Issue 22: 20 simultaneous saves of different blocks gave 19 x "database is locked".
Issue 15: a report generated while statuses are saved and the overview is read.
The probe runs in its own process on a fresh SQLite file (see tests/sqlite_probe.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nupportal.env import database_config

ROOT = Path(__file__).resolve().parents[2]


def test_sqlite_is_configured_for_concurrent_writers(tmp_path):
    for url in ("", f"sqlite:///{tmp_path}/db.sqlite3"):
        options = database_config(url, default_sqlite=tmp_path / "db.sqlite3")[
            "OPTIONS"
        ]
        assert options["transaction_mode"] == "IMMEDIATE"
        assert options["timeout"] >= 10
        assert "journal_mode=WAL" in options["init_command"]


def test_twenty_saves_two_readers_and_a_report_at_once_on_a_sqlite_file(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/probe.sqlite3",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "NUP_MEDIA_ROOT": str(tmp_path / "media"),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "tests.sqlite_probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    assert summary["errors"] == []
    assert summary["hung"] == 0
    # 20 saves redirect (302), 2 readers x 3 overview pages answer 200.
    assert summary["statuses"] == [200] * 6 + [302] * 20
    assert summary["in_use"] == 20
    assert summary["report_state"] == "done", summary["report_error"]
    assert summary["journal_mode"] == "wal"
