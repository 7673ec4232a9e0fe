"""Rebuild the monthly snapshots from the status history."""

from __future__ import annotations

import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from scoring.history import snapshot_scores


def parse_month(value: str) -> datetime.date:
    """'2011-01' or '2011-01-15' → the first day of that month."""
    for pattern in ("%Y-%m", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(value, pattern).date().replace(day=1)
        except ValueError:
            continue
    raise CommandError(f"--since {value!r}: give a month as YYYY-MM, e.g. 2011-01.")


class Command(BaseCommand):
    help = "Rebuild the monthly snapshots (trends) from the status history."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since",
            default="2011-01",
            help="First month to rebuild, YYYY-MM (default 2011-01).",
        )

    def handle(self, *args, **options) -> None:
        since = parse_month(options["since"])
        started = time.perf_counter()
        written = snapshot_scores(since)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt snapshots from {since:%Y-%m} in {elapsed:.3f} s: "
                f"{written} rows."
            )
        )
