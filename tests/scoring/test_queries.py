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
from scoring.models import Measure, Scope
from tests.factories import StatusChangeFactory
from tests.scoring.conftest import TODAY


@pytest.mark.django_db
def test_no_series_before_any_snapshot():
    assert queries.national_and_size_class_series(Measure.MEAN_SCORE) == []


@pytest.mark.django_db
def test_national_and_size_class_series(municipality):
    block = StatusChangeFactory(
        municipality=municipality,
        changed_at=datetime.datetime(2012, 3, 10, tzinfo=datetime.UTC),
    ).block
    snapshot_scores(datetime.date(2012, 1, 1), today=datetime.date(2012, 6, 1))
    months = [datetime.date(2012, m, 1) for m in range(1, 6)]
    shares = [0.0, 0.0, 1.0, 1.0, 1.0]
    rows = queries.national_and_size_class_series(Measure.IN_USE_SHARE, block=block)
    # The country first, then the one size class, each oldest first.
    assert rows == [
        *((Scope.NATIONAL, "", m, v) for m, v in zip(months, shares, strict=True)),
        *(
            (Scope.SIZE_CLASS, municipality.size_class, m, v)
            for m, v in zip(months, shares, strict=True)
        ),
    ]
    # Another measure, and another block's figure, are other rows.
    means = queries.national_and_size_class_series(Measure.MEAN_SCORE)
    assert [v for scope, _k, _m, v in means if scope == Scope.NATIONAL][-2:] == [
        100.0,
        100.0,
    ]
    assert (
        queries.national_and_size_class_series(
            Measure.IN_USE_SHARE, block=block.pk + 1000
        )
        == []
    )


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
