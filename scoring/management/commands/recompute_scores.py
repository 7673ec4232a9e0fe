"""Recompute every score, compliance row and aggregate in the foreground."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from scoring.compute import recompute_all


class Command(BaseCommand):
    help = "Recompute all adoption scores, agreement statuses and aggregates."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        written = recompute_all()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed in {elapsed:.3f} s: {written['scores']} scores, "
                f"{written['compliance']} agreement statuses, "
                f"{written['aggregates']} aggregate figures "
                f"({sum(written.values())} rows)."
            )
        )
