from django.core import mail
from django.core.management import CommandError, call_command

import pytest


def test_demo_mail_prints_what_the_file_backend_kept(settings, tmp_path, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    mail.send_mail("Herinnering deadline", "Resultaatafspraak 3", "a@x.nl", ["b@x.nl"])
    call_command("demo_mail")
    out = capsys.readouterr().out
    assert "Herinnering deadline" in out and "Resultaatafspraak 3" in out


def test_demo_mail_explains_when_mail_is_not_kept_in_files(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    with pytest.raises(CommandError, match="filemail"):
        call_command("demo_mail")
