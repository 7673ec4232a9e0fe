"""Sets of requirements and blocks spill over into more integer words.

The recompute keeps each set as bit masks of 62 bits a word; with more
requirements or blocks than that, a set takes several words. The fixture has
far fewer, so the word size is shrunk here to make every set span words (and
an agreement's requirements straddle two) and the figures must still equal the
pure rules.
"""

from __future__ import annotations

from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from scoring.compute import recompute_all, recompute_municipality
from scoring.models import Aggregate, MunicipalityScore
from scoring.recompute import sql
from tests.scoring.conftest import TODAY
from tests.scoring.test_compute import expected_per_municipality
from tests.scoring.test_compute_levels import assert_same_figures, stored_figures


@pytest.mark.django_db
@pytest.mark.parametrize("word", [1, 3])
def test_sets_spanning_several_words_give_the_same_figures(world, word):
    with (
        mock.patch.object(sql, "_WORD", word),
        CaptureQueriesContext(connection) as queries,
    ):
        recompute_all(today=TODAY)
        expected = expected_per_municipality()
        assert_same_figures(stored_figures(), expected)
        first = world.municipalities[0]
        MunicipalityScore.objects.filter(municipality=first).delete()
        recompute_municipality(first.pk, today=TODAY)
        assert_same_figures(stored_figures(), expected)
        aggregates = aggregate_values()
    # The patch took effect: the pass wrote, and the aggregates read, second words.
    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert "remaining_1" in statements
    assert "in_use_blocks_1" in statements
    # Back at the real word size the stored rows are already right.
    assert recompute_all(today=TODAY)["compliance"] == 0
    assert aggregate_values() == aggregates


def aggregate_values() -> list[tuple]:
    return sorted(
        Aggregate.objects.values_list(
            "scope", "key", "measure", "block", "agreement", "status", "value"
        ),
        key=str,
    )
