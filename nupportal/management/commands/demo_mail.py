"""Print the e-mails the demo sent (the file mail backend's folder, newest last).

`make demo` keeps its mail in var/mail/ (EMAIL_URL=filemail://…) so the weekly
deadline reminders can be read without a mail server.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Print the e-mails kept by the file mail backend (make demo: var/mail/)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--last", type=int, default=0, help="Only the newest N files."
        )

    def handle(self, *args, last: int, **options):
        folder = getattr(settings, "EMAIL_FILE_PATH", None)
        if not settings.EMAIL_BACKEND.endswith("filebased.EmailBackend") or not folder:
            raise CommandError(
                "Mail is not kept in files here (EMAIL_URL is not filemail://…); "
                "make demo sets it to var/mail/."
            )
        files = sorted(Path(folder).glob("*.log"), key=lambda p: p.stat().st_mtime)
        if last:
            files = files[-last:]
        if not files:
            self.stdout.write(f"No e-mail in {folder} yet.")
        for path in files:
            self.stdout.write(f"==> {path.name}")
            self.stdout.write(path.read_text(encoding="utf-8", errors="replace"))
