from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from nupportal.backup import backup


class Command(BaseCommand):
    help = "Write a consistent backup of the database (pg_dump on PostgreSQL, SQLite backup API)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            help="file to write (default backups/nup-<time>.dump)",
        )

    def handle(self, *args, output: Path | None, **options):
        target = output or Path("backups") / f"nup-{timezone.now():%Y%m%d-%H%M%S}.dump"
        path = backup(target)
        self.stdout.write(f"Backup written to {path} ({path.stat().st_size:,} bytes)")
