from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_docker_compose_parses_and_names_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("db", "redis", "web", "worker", "beat"):
        assert "healthcheck" in services[name], name


def test_app_services_get_the_documented_environment():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        for variable in (
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "DJANGO_SECRET_KEY",
            "DJANGO_DEBUG",
            "DJANGO_ALLOWED_HOSTS",
            "EMAIL_URL",
            "NUP_REQUIRE_LOGIN",
        ):
            assert variable in env, (name, variable)
        assert env["DATABASE_URL"].startswith("postgres://")
    assert "celery" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    assert "gunicorn" in services["web"]["command"]


def test_env_example_lists_every_setting_of_design_section_7():
    text = (ROOT / ".env.example").read_text()
    for variable in (
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "DJANGO_SECRET_KEY",
        "DJANGO_DEBUG",
        "DJANGO_ALLOWED_HOSTS",
        "EMAIL_URL",
        "NUP_REQUIRE_LOGIN",
    ):
        assert f"{variable}=" in text
