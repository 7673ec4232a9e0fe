"""The property tests run without a time limit per example (tests/conftest.py)."""

from hypothesis import HealthCheck, settings


def test_examples_have_no_deadline_and_slowness_is_no_failure():
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check
