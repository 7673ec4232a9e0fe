"""Concurrent writers on a real SQLite file, run as its own process.

The test database of the suite is SQLite in memory (shared cache), whose locking
differs from a file's; `make demo` runs on a file. So this module migrates a fresh
file given by DATABASE_URL and, at one moment, lets 20 editors save a different
block each through the status editor, two readers load the overview, and one
full XLSX report is generated. It prints a JSON summary (status codes, errors).

Run: DATABASE_URL=sqlite:////tmp/x.sqlite3 python -m tests.sqlite_probe
"""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback

import django

SAVERS = 20
READERS = 2


def main() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nupportal.settings")
    django.setup()

    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.models import F
    from django.test import Client

    from buildingblocks.levels import Level
    from reports.generate import run_report
    from reports.models import Report
    from tests.buildingblocks.editing import change, form_data
    from tests.factories import (
        AdoptionStatusFactory,
        BuildingBlockFactory,
        EditorMembershipFactory,
        MunicipalityFactory,
    )

    call_command("migrate", verbosity=0)
    municipality = MunicipalityFactory(slug="druk")
    blocks = [BuildingBlockFactory(code=f"blok{i}", order=i) for i in range(SAVERS)]
    for block in blocks:
        AdoptionStatusFactory(municipality=municipality, block=block)
    users = [EditorMembershipFactory(municipality=municipality).user for _ in blocks]
    # More history than one fetch of the export's iterator (2,000 rows), so
    # the export reads while it writes its progress.
    from django.utils import timezone

    from buildingblocks.models import StatusChange

    StatusChange.objects.bulk_create(
        StatusChange(
            municipality=municipality,
            block=blocks[i % SAVERS],
            from_level=Level.NOT_STARTED,
            to_level=Level.PREPARING,
            changed_at=timezone.now(),
            source=StatusChange.Source.IMPORT,
        )
        for i in range(5000)
    )
    report = Report.objects.create(
        kind=Report.Kind.FULL_XLSX, parameters={"language": "nl"}
    )
    url = f"/gemeenten/{municipality.slug}/bewerken/"
    barrier = threading.Barrier(SAVERS + READERS + 1)
    statuses: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def save(index: int) -> None:
        client = Client()
        client.force_login(users[index])
        data = change(
            form_data(client.get(url)), blocks[index].code, level=Level.IN_USE
        )
        barrier.wait(timeout=60)
        response = client.post(url, data)
        with lock:
            statuses.append(response.status_code)

    def read(_index: int) -> None:
        client = Client()
        barrier.wait(timeout=60)
        for _ in range(3):
            response = client.get("/")
            with lock:
                statuses.append(response.status_code)

    def generate(_index: int) -> None:
        barrier.wait(timeout=60)
        run_report(report.pk)

    def commit_elsewhere() -> None:
        """A save by someone else, committed while the report is being made."""
        from municipalities.models import Municipality

        thread = threading.Thread(
            target=lambda: (
                Municipality.objects.filter(pk=municipality.pk).update(
                    population=F("population") + 1
                ),
                connections.close_all(),
            )
        )
        thread.start()
        thread.join(timeout=60)

    from reports import generate as generate_module

    original_progress = generate_module._Progress.__call__

    def progress_after_a_commit(self, percent: int) -> None:
        # Deterministic: every progress write follows another connection's
        # commit, as with editors saving during a long export.
        commit_elsewhere()
        original_progress(self, percent)

    generate_module._Progress.__call__ = progress_after_a_commit

    def guarded(target, index: int) -> None:
        try:
            target(index)
        except BaseException:  # noqa: BLE001 - reported in the summary
            with lock:
                errors.append(traceback.format_exc(limit=3))
            barrier.abort()
        finally:
            connections.close_all()

    jobs = [(save, i) for i in range(SAVERS)]
    jobs += [(read, i) for i in range(READERS)] + [(generate, 0)]
    threads = [threading.Thread(target=guarded, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    report.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]
    return {
        "statuses": sorted(statuses),
        "errors": errors,
        "report_state": report.state,
        "report_error": report.error,
        "in_use": municipality.statuses.filter(level=Level.IN_USE).count(),
        "journal_mode": journal_mode,
        "hung": sum(thread.is_alive() for thread in threads),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
    sys.stdout.flush()
    os._exit(0)  # do not wait for a hung thread
