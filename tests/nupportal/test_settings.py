import subprocess
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

import pytest

from nupportal.env import cache_config, database_config

ROOT = Path(__file__).resolve().parents[2]


def test_no_database_url_means_the_sqlite_file(tmp_path):
    config = database_config("", default_sqlite=tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "db.sqlite3")


def test_postgres_url_uses_postgresql_with_health_checks(tmp_path):
    config = database_config(
        "postgres://nup:secret@db.example:5433/nup", default_sqlite=tmp_path / "x"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == (
        "db.example",
        5433,
        "nup",
    )
    assert config["USER"] == "nup" and config["PASSWORD"] == "secret"
    assert config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/nup", "not a url", "postgres://localhost:5432/"]
)
def test_bad_database_url_is_a_clear_error_without_the_password(url, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_config(url, default_sqlite=tmp_path / "x")


def test_password_is_not_shown_in_the_error(tmp_path):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        database_config(
            "mysql://root:hunter2@localhost/nup", default_sqlite=tmp_path / "x"
        )
    assert "hunter2" not in str(excinfo.value)


def test_redis_url_selects_the_tolerant_redis_cache():
    assert cache_config("redis://127.0.0.1:6379/1")["BACKEND"] == (
        "nupportal.cache.TolerantRedisCache"
    )
    assert cache_config("")["BACKEND"].endswith("LocMemCache")
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        cache_config("http://127.0.0.1:6379")


def _settings_in_subprocess(
    env: dict[str, str], expression: str
) -> subprocess.CompletedProcess:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='nupportal.settings';"
        f"from django.conf import settings; print({expression})"
    )
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_secret_key_outside_debug_stops_start_up():
    result = _settings_in_subprocess({"DJANGO_DEBUG": "false"}, "settings.SECRET_KEY")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_environment_drives_settings():
    result = _settings_in_subprocess(
        {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "x" * 60,
            "DJANGO_ALLOWED_HOSTS": "nup.example,www.nup.example",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "NUP_REQUIRE_LOGIN": "true",
        },
        "settings.ALLOWED_HOSTS, settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER,"
        " settings.NUP_REQUIRE_LOGIN, settings.LANGUAGE_CODE, settings.TIME_ZONE",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "['nup.example', 'www.nup.example'] redis://127.0.0.1:6379/3 False True nl Europe/Amsterdam"
    )


def test_embedded_default_runs_tasks_eagerly():
    result = _settings_in_subprocess(
        {}, "settings.CELERY_TASK_ALWAYS_EAGER, settings.DATABASES['default']['ENGINE']"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True django.db.backends.sqlite3"


@pytest.mark.parametrize(
    "key",
    [
        "change-me-to-a-long-random-string",  # the one in .env.example
        "insecure-development-key-only-for-debug",
        "django-insecure-" + "k" * 50,
        "CHANGEME",
    ],
)
def test_a_placeholder_secret_key_outside_debug_stops_start_up(key):
    result = _settings_in_subprocess(
        {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": key}, "settings.SECRET_KEY"
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is a published placeholder" in result.stderr


def test_the_env_example_key_is_refused():
    example = (ROOT / ".env.example").read_text()
    key = next(
        line.split("=", 1)[1]
        for line in example.splitlines()
        if line.startswith("DJANGO_SECRET_KEY=")
    )
    result = _settings_in_subprocess(
        {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": key}, "settings.SECRET_KEY"
    )
    assert result.returncode != 0
    assert "published placeholder" in result.stderr


def test_a_placeholder_secret_key_is_accepted_in_debug():
    result = _settings_in_subprocess(
        {"DJANGO_DEBUG": "true", "DJANGO_SECRET_KEY": "change-me"},
        "settings.SECRET_KEY",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "change-me"
