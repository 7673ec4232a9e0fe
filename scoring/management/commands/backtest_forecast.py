"""`manage.py backtest_forecast`: how well the forecast does on the history it had."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from scoring.backtest import render_markdown, run_backtest, summarise
from scoring.management.commands.snapshot_scores import parse_month

DEFAULT_LABEL = "the synthetic demo data (`seed_demo --seed 42`)"


class Command(BaseCommand):
    help = (
        "Fit the forecast on the snapshots up to --cutoff, compare it with "
        "--outcome and write the result as Markdown (docs/forecast-backtest.md)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cutoff", default="2013-01", help="Last month fitted.")
        parser.add_argument("--outcome", default="2015-12", help="Month compared.")
        parser.add_argument(
            "--output",
            default=str(Path(settings.BASE_DIR) / "docs" / "forecast-backtest.md"),
            help="Markdown file to write ('-' for standard output).",
        )
        parser.add_argument(
            "--label",
            default=DEFAULT_LABEL,
            help="What data this is, for the warning at the top of the file.",
        )

    def handle(self, *args, **options) -> None:
        cutoff = parse_month(options["cutoff"])
        outcome = parse_month(options["outcome"])
        started = time.perf_counter()
        cases, last = run_backtest(cutoff, outcome)
        summary = summarise(cases, last)
        text = render_markdown(
            cases,
            summary,
            cutoff=cutoff,
            outcome=outcome,
            last=last,
            label=options["label"],
            generated=timezone.localdate(),
        )
        if options["output"] == "-":
            self.stdout.write(text)
        else:
            Path(options["output"]).write_text(text, encoding="utf-8")
        mae = "–" if summary.mae is None else f"{100 * summary.mae:.1f} pp"
        self.stderr.write(
            f"Backtest of {summary.cases} series ({summary.fitted} fitted) in "
            f"{time.perf_counter() - started:.1f} s: mean absolute error {mae} "
            f"in {outcome:%Y-%m}; written to {options['output']}."
        )
