"""Every score and snapshot records the scoring-method version (issue 14, item 5)."""

from __future__ import annotations

import datetime

import pytest

from scoring.compute import recompute_all, recompute_municipality
from scoring.history import snapshot_scores
from scoring.method_version import CHANGELOG, METHOD_VERSION
from scoring.models import MunicipalityScore, Snapshot
from tests.scoring.test_history import TODAY as HISTORY_TODAY
from tests.scoring.test_history import build_history
from tests.test_exports import read_csv

pytestmark = pytest.mark.django_db


def test_the_changelog_ends_with_the_current_version():
    assert CHANGELOG[-1].version == METHOD_VERSION
    assert len({change.version for change in CHANGELOG}) == len(CHANGELOG)


def test_every_score_carries_the_method_version(world):
    recompute_all()
    assert MunicipalityScore.objects.count() == len(world.municipalities)
    assert set(MunicipalityScore.objects.values_list("method_version", flat=True)) == {
        METHOD_VERSION
    }
    MunicipalityScore.objects.update(method_version="1")
    recompute_municipality(world.municipalities[0].pk)
    assert (
        MunicipalityScore.objects.get(
            municipality=world.municipalities[0]
        ).method_version
        == METHOD_VERSION
    )


def test_every_snapshot_carries_the_version_it_was_made_with(monkeypatch):
    build_history(n_municipalities=3)
    snapshot_scores(datetime.date(2013, 1, 1), today=HISTORY_TODAY)
    assert set(Snapshot.objects.values_list("method_version", flat=True)) == {
        METHOD_VERSION
    }
    # A later method rebuilds from a month on: earlier months keep their version.
    monkeypatch.setattr("scoring.history.METHOD_VERSION", "3")
    snapshot_scores(datetime.date(2015, 1, 1), today=HISTORY_TODAY)
    versions = dict(Snapshot.objects.values_list("month", "method_version").distinct())
    assert versions[datetime.date(2014, 12, 1)] == METHOD_VERSION
    assert versions[datetime.date(2015, 1, 1)] == "3"


def test_the_scorecard_the_export_and_the_method_page_show_it(client, world):
    recompute_all()
    municipality = world.municipalities[0]
    card = client.get(f"/gemeenten/{municipality.slug}/").content.decode()
    assert f"methode v{METHOD_VERSION}" in card
    assert 'href="/methode/#method-versions"' in card

    rows = read_csv(client.get("/en/gemeenten/", {"_export": "csv"}))
    column = rows[0].index("Method version")
    assert {row[column] for row in rows[1:]} == {METHOD_VERSION}
    # Not a column of the page itself.
    assert "Method version" not in client.get("/en/gemeenten/").content.decode()

    for url, words in (
        ("/methode/", ("Methodeversies (huidige: v2)", "geldigheidsperiode")),
        ("/en/methode/", ("Method versions (current: v2)", "validity period")),
    ):
        page = client.get(url).content.decode()
        assert all(word in page for word in words), url
        assert 'id="method-versions"' in page


def test_a_past_scorecard_names_the_method_of_its_replay(client, world):
    recompute_all()
    municipality = world.municipalities[0]
    # The replay runs today's code: the stored row's older method does not leak in.
    MunicipalityScore.objects.update(method_version="1")
    card = client.get(
        f"/gemeenten/{municipality.slug}/", {"peildatum": "2014-06-15"}
    ).content.decode()
    assert f"methode v{METHOD_VERSION}" in card
    assert "methode v1<" not in card
