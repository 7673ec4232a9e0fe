import sqlite3
import subprocess
import uuid

from django.db import connection

import psycopg
import pytest

from buildingblocks.levels import Level
from nupportal.backup import backup, restore
from tests.factories import AdoptionStatusFactory, StatusChangeFactory


@pytest.fixture
def some_history(transactional_db):
    statuses = AdoptionStatusFactory.create_batch(3, level=Level.PREPARING)
    for status in statuses:
        StatusChangeFactory(municipality=status.municipality, block=status.block)
        StatusChangeFactory(municipality=status.municipality, block=status.block)
    return statuses


def _counts_sqlite(path):
    with sqlite3.connect(path) as db:
        return tuple(
            db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (
                "buildingblocks_adoptionstatus",
                "buildingblocks_statuschange",
            )
        )


def test_backup_restores_every_status_and_history_row_into_a_fresh_database(
    some_history, tmp_path
):
    dump = backup(tmp_path / "nup.dump")
    assert dump.stat().st_size > 0
    if connection.vendor == "sqlite":
        fresh = tmp_path / "fresh.sqlite3"
        restore(dump, settings_dict={"NAME": str(fresh)})
        assert _counts_sqlite(fresh) == (3, 6)
        return
    params = connection.settings_dict
    fresh_name = f"nup_restore_{uuid.uuid4().hex[:8]}"
    conninfo = dict(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"] or "postgres",
        password=params["PASSWORD"] or None,
    )
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as admin:
        admin.execute(f'CREATE DATABASE "{fresh_name}"')
    try:
        restore(dump, settings_dict={**params, "NAME": fresh_name})
        with psycopg.connect(dbname=fresh_name, **conninfo) as db:
            counts = tuple(
                db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in (
                    "buildingblocks_adoptionstatus",
                    "buildingblocks_statuschange",
                )
            )
        assert counts == (3, 6)
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{fresh_name}" WITH (FORCE)')


def test_pg_tools_are_available_where_postgres_is_used():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite backups need no external tool")
    assert subprocess.run(["pg_dump", "--version"], capture_output=True).returncode == 0
