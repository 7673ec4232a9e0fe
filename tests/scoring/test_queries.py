"""Shared reads of the figures, the commands, and /healthz with real scores."""

from __future__ import annotations

import datetime
import json

from django.core.management import call_command
from django.core.management.base import CommandError

import pytest

from scoring import queries
from scoring.compute import recompute_all
from scoring.history import snapshot_scores
from scoring.management.commands.snapshot_scores import parse_month
from scoring.models import Measure, MunicipalityScore, Scope
from tests.factories import StatusChangeFactory
from tests.scoring.conftest import TODAY


@pytest.mark.django_db
def test_figures_before_any_recompute_are_empty():
    figures = queries.national_figures()
    assert figures.municipalities == 0
    assert figures.mean_score is None
    assert queries.scores_computed_at() is None
    assert queries.snapshot_series(Measure.MEAN_SCORE) == []


@pytest.mark.django_db
def test_national_and_scope_figures(world, django_assert_max_num_queries):
    recompute_all(today=TODAY)
    with django_assert_max_num_queries(1):
        national = queries.national_figures()
    assert national.municipalities == len(world.municipalities)
    scores = list(MunicipalityScore.objects.values_list("score", flat=True))
    assert national.mean_score == pytest.approx(
        sum(s for s in scores if s is not None)
        / len([s for s in scores if s is not None])
    )
    assert set(national.in_use_share) == {b.id for b in world.blocks}
    assert set(national.status_counts) == {a.id for a in world.agreements}
    for counts in national.status_counts.values():
        assert sum(counts.values()) == national.municipalities
    assert national.computed_at == queries.scores_computed_at()

    by_size = queries.figures_by_key(Scope.SIZE_CLASS)
    assert sum(f.municipalities for f in by_size.values()) == national.municipalities
    by_province = queries.figures_by_key(Scope.PROVINCE)
    assert set(by_province) == {"utrecht", "gelderland", "fryslan"}

    shares = queries.block_shares_by_key(Scope.SIZE_CLASS)
    assert set(shares) == {b.id for b in world.blocks}
    block = world.blocks[0]
    assert shares[block.id] == {k: f.in_use_share[block.id] for k, f in by_size.items()}


@pytest.mark.django_db
def test_benchmark_is_one_query(world, django_assert_max_num_queries):
    recompute_all(today=TODAY)
    municipality = world.municipalities[0]
    with django_assert_max_num_queries(1):
        figures = queries.benchmark(municipality)
    assert figures["size_class"].key == municipality.size_class
    assert figures["province"].key == municipality.province.slug
    assert figures["national"].municipalities == len(world.municipalities)


@pytest.mark.django_db
def test_snapshot_series(municipality):
    block = StatusChangeFactory(
        municipality=municipality,
        changed_at=datetime.datetime(2012, 3, 10, tzinfo=datetime.UTC),
    ).block
    snapshot_scores(datetime.date(2012, 1, 1), today=datetime.date(2012, 6, 1))
    series = queries.snapshot_series(Measure.IN_USE_SHARE, block=block)
    assert series == [
        (datetime.date(2012, 1, 1), 0.0),
        (datetime.date(2012, 2, 1), 0.0),
        (datetime.date(2012, 3, 1), 1.0),
        (datetime.date(2012, 4, 1), 1.0),
        (datetime.date(2012, 5, 1), 1.0),
    ]
    assert queries.snapshot_series(
        Measure.MEAN_SCORE, since=datetime.date(2012, 4, 1)
    ) == [(datetime.date(2012, 4, 1), 100.0), (datetime.date(2012, 5, 1), 100.0)]
    by_size = queries.snapshot_series_by_key(Measure.MEAN_SCORE, Scope.SIZE_CLASS)
    assert list(by_size) == [municipality.size_class]
    assert len(by_size[municipality.size_class]) == 5


@pytest.mark.django_db
def test_recompute_scores_command_reports_rows_and_time(world, capsys):
    call_command("recompute_scores")
    out = capsys.readouterr().out
    assert "Recomputed in" in out
    assert f"{len(world.municipalities)} scores" in out


@pytest.mark.django_db
def test_snapshot_scores_command(municipality, capsys):
    StatusChangeFactory(municipality=municipality)
    call_command("snapshot_scores", "--since", "2024-01")
    assert "Rebuilt snapshots from 2024-01" in capsys.readouterr().out


def test_parse_month():
    assert parse_month("2011-01") == datetime.date(2011, 1, 1)
    assert parse_month("2011-01-15") == datetime.date(2011, 1, 1)
    with pytest.raises(CommandError):
        parse_month("January")


@pytest.mark.django_db
def test_healthz_reports_the_age_of_the_scores(client, world):
    recompute_all(today=TODAY)
    response = client.get("/healthz")
    assert response.status_code == 200
    report = json.loads(response.content)
    assert 0 <= report["scores_age_seconds"] < 60
    # No worker runs in this test: eager without a broker, else none answers.
    assert report["worker"] in ("eager", "unavailable")
