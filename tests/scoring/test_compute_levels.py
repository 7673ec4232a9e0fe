"""The recompute follows the level values wherever they are set (property-based).

LEVEL_VALUES (buildingblocks/levels.py) is read by the pure rules and by the SQL
of the recompute alike. For level value tables drawn at random, the stored
figures must equal what scoring.rules gives for the same data, so a value that
the SQL hard-codes or rounds differently is caught, whatever the value. Runs on
SQLite, and on PostgreSQL (its own single-pass SQL) when DATABASE_URL says so.
"""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildingblocks.levels import COUNTABLE_LEVELS, LEVEL_VALUES, Level
from scoring.compute import recompute_all, recompute_municipality
from scoring.models import AgreementCompliance, MunicipalityScore
from tests.scoring.conftest import TODAY
from tests.scoring.test_compute import expected_per_municipality

level_value = st.decimals(min_value=0, max_value=1, places=3)
# not_started stays 0: a block without a status row counts as not started and
# adds nothing to the sum (DESIGN §4); every other countable level may move.
level_tables = st.fixed_dictionaries(
    {level: level_value for level in COUNTABLE_LEVELS if level != Level.NOT_STARTED}
)


def stored_figures() -> dict[int, tuple]:
    """Per municipality what the recompute wrote, shaped like the expectation."""
    compliance: dict[int, dict[int, tuple]] = {}
    for row in AgreementCompliance.objects.all():
        compliance.setdefault(row.municipality_id, {})[row.agreement_id] = (
            row.status,
            row.reason or None,
            row.lapsed_on,
            row.exempted,
        )
    return {
        row.municipality_id: (
            row.score,
            row.category_scores,
            compliance.get(row.municipality_id, {}),
        )
        for row in MunicipalityScore.objects.all()
    }


def assert_same_figures(stored: dict[int, tuple], expected: dict[int, tuple]) -> None:
    assert stored.keys() == expected.keys()
    for municipality_id, (score, categories, statuses) in expected.items():
        got_score, got_categories, got_statuses = stored[municipality_id]
        assert got_score == pytest.approx(score), municipality_id
        assert got_categories == pytest.approx(categories), municipality_id
        assert got_statuses == {
            agreement_id: (o.status, o.reason, o.lapsed_on, o.exempted)
            for agreement_id, o in statuses.items()
        }, municipality_id


@pytest.mark.django_db
def test_recompute_equals_the_rules_for_any_level_values(world):
    first = world.municipalities[0]

    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(values=level_tables)
    def check(values: dict[str, Decimal]) -> None:
        with mock.patch.dict(LEVEL_VALUES, values):
            recompute_all(today=TODAY)
            expected = expected_per_municipality()
            assert_same_figures(stored_figures(), expected)
            # The one-municipality SQL takes the same values.
            MunicipalityScore.objects.filter(municipality=first).delete()
            recompute_municipality(first.pk, today=TODAY)
            assert_same_figures(stored_figures(), expected)

    check()
