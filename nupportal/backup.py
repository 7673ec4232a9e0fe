"""Consistent backups: pg_dump/pg_restore on PostgreSQL, the SQLite backup API otherwise."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connections


def _pg_env(settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    args = [
        "--host",
        settings_dict.get("HOST") or "127.0.0.1",
        "--port",
        str(settings_dict.get("PORT") or 5432),
        "--username",
        settings_dict.get("USER") or "postgres",
    ]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return args, env


def backup(target: Path, *, alias: str = "default") -> Path:
    """Write a backup of the database to `target` and return its path."""
    connection = connections[alias]
    settings_dict = connection.settings_dict
    target.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "postgresql":
        args, env = _pg_env(settings_dict)
        subprocess.run(
            [
                "pg_dump",
                *args,
                "--format=custom",
                "--no-owner",
                "--file",
                str(target),
                settings_dict["NAME"],
            ],
            check=True,
            env=env,
        )
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        with destination:
            connection.connection.backup(destination)
        destination.close()
    else:  # pragma: no cover - only the two supported engines
        raise RuntimeError(f"No backup for {connection.vendor}")
    return target


def restore(
    source: Path, *, alias: str = "default", settings_dict: dict | None = None
) -> None:
    """Replace the contents of a database with the backup in `source`.

    `settings_dict` names another database of the same engine (a fresh one, in tests).
    """
    connection = connections[alias]
    target = settings_dict or connection.settings_dict
    if connection.vendor == "postgresql":
        if settings_dict is None:
            connection.close()
        args, env = _pg_env(target)
        subprocess.run(
            [
                "pg_restore",
                *args,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
                target["NAME"],
                str(source),
            ],
            check=True,
            env=env,
        )
    elif connection.vendor == "sqlite":
        if settings_dict is None:
            connection.close()
        shutil.copyfile(source, target["NAME"])
    else:  # pragma: no cover
        raise RuntimeError(f"No restore for {connection.vendor}")
