"""Load data/reference/ into the database; idempotent (a second run changes nothing)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from municipalities.reference import ReferenceDataError, load_reference_data
from scoring.tasks import enqueue_recompute_all


class Command(BaseCommand):
    help = (
        "Load the reference data (provinces, municipalities, mergers, building blocks, "
        "result agreements) from data/reference/. Updates rows in place; never touches "
        "statuses, history or scores."
    )

    def handle(self, *args, **options) -> None:
        try:
            results = load_reference_data()
        except ReferenceDataError as error:
            raise CommandError(str(error)) from error
        width = max(len(name) for name in results)
        for name, counts in results.items():
            self.stdout.write(f"{name.ljust(width)}  {counts}")
        changed = sum(counts.changed for counts in results.values())
        if changed:
            # Populations, weights and requirements feed the scores (DESIGN §6).
            enqueue_recompute_all()
            self.stdout.write(
                self.style.SUCCESS(f"Reference data loaded: {changed} changes.")
            )
        else:
            self.stdout.write(self.style.SUCCESS("Reference data already up to date."))
