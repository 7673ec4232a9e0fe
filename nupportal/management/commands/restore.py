from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from nupportal.backup import restore


class Command(BaseCommand):
    help = "Restore the database from a backup made with `manage.py backup` (replaces all data)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--no-input", action="store_true", help="do not ask for confirmation"
        )

    def handle(self, *args, file: Path, no_input: bool, **options):
        if not file.is_file():
            raise CommandError(f"No backup file at {file}")
        if (
            not no_input
            and input(f"Replace all data with {file}? [y/N] ").lower() != "y"
        ):
            raise CommandError("Restore cancelled.")
        restore(file)
        self.stdout.write(f"Restored from {file}")
