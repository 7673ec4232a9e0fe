"""`manage.py seed_bench --municipalities 10000 --blocks 50 --months 180`: scale data.

Synthetic municipalities ("Benchgemeente 1" …), blocks, agreements, one status
per municipality × block and a history of about three changes per status,
loaded with COPY. Only for a database of its own (`make bench` uses
`nupportal_bench_scale`): it refuses one that holds the real reference data.
Scores are not computed here; run `recompute_scores` and `snapshot_scores`.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from buildingblocks.benchdata import BenchDataError, Spec, seed


class Command(BaseCommand):
    help = (
        "Fill a separate, empty database with synthetic benchmark data "
        "(municipalities × blocks and a monthly history)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipalities", type=int, default=10_000)
        parser.add_argument("--blocks", type=int, default=50)
        parser.add_argument("--months", type=int, default=180)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Rebuild when synthetic bench data is already present.",
        )

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        spec = Spec(
            municipalities=options["municipalities"],
            blocks=options["blocks"],
            months=options["months"],
            seed=options["seed"],
        )
        try:
            counts = seed(spec, replace=options["replace"], log=self.stdout.write)
        except BenchDataError as error:
            raise CommandError(str(error)) from error
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Bench data: {summary} in {time.monotonic() - started:.1f} s."
            )
        )
