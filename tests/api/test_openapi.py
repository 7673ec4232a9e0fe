"""The API against its own OpenAPI document: property-based (schemathesis) and linted (ADR)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

import pytest
import schemathesis
import schemathesis.openapi
import schemathesis.pytest
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api.conftest import build_world

ROOT = Path(__file__).resolve().parents[2]
SPECTRAL = ROOT / "node_modules" / ".bin" / "spectral"
RULESET = ROOT / "api" / "adr-ruleset.yaml"


@pytest.fixture
def api_schema(db, settings):
    build_world()
    # Hundreds of generated requests from one address: no rate limit here.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
    }
    # The test client keeps the test's database connection open across requests;
    # a bare WSGI handler would close it after each one (and break PostgreSQL's
    # test transaction), so do as the test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_response_matches_the_schema_and_none_is_a_server_error(case):
    # Every check (no 5xx; documented status code, content type, headers and body)
    # but one: which provinces, blocks and reference dates exist is data, not
    # schema, so a well-formed but unknown value is rightly a 400 problem.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


def test_spectral_adr_ruleset_reports_no_errors(db, tmp_path):
    if not SPECTRAL.exists() or shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("npm install must provide node_modules/.bin/spectral in CI")
        pytest.skip("Spectral not installed (npm install)")
    spec = tmp_path / "openapi.json"
    response = Client().get("/api/v1/openapi.json")
    spec.write_text(json.dumps(response.json()))
    result = subprocess.run(
        [
            str(SPECTRAL),
            "lint",
            "--ruleset",
            str(RULESET),
            "--fail-severity",
            "error",
            "--format",
            "text",
            str(spec),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " error " not in result.stdout
