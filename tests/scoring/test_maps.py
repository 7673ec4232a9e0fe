"""The choropleth map: one linked path per municipality, right class, cached per data version."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from scoring import maps
from scoring.compute import recompute_municipality
from scoring.maps import MapArea, score_class
from scoring.models import AgreementCompliance, ComplianceStatus, MunicipalityScore
from tests.scoring.dashboard_world import build_dashboard


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("score", "key"),
    [
        (None, "nodata"),
        (0, "c0"),
        # Classed as the map shows the score, a whole number rounded half-up.
        (39.49, "c0"),
        (39.5, "c1"),
        (40, "c1"),
        (59.49, "c1"),
        (59.99, "c2"),
        (60, "c2"),
        (80, "c3"),
        (84.49, "c3"),
        (84.5, "c4"),
        (89.49, "c4"),
        (89.5, "c5"),
        (94.49, "c5"),
        (94.9, "c6"),
        (95, "c6"),
        (100, "c6"),
    ],
)
def test_score_classes(score, key):
    assert score_class(score) == key


def test_every_class_has_a_distinct_fill_and_a_label():
    for classes in (maps.score_classes(), maps.level_classes(), maps.status_classes()):
        fills = [c.fill for c in classes]
        assert len(set(fills)) == len(fills)
        assert all(c.label for c in classes)


def test_render_map_links_and_titles_every_area():
    svg = maps.render_map(
        map_id="m",
        title="Score",
        desc="Summary",
        areas=[
            MapArea("Utrecht", "/gemeenten/utrecht/", "M0 0L1 0 1 1Z", "c4", "92"),
            MapArea(
                "Ameland", "/gemeenten/ameland/", "M2 2L3 2 3 3Z", "nodata", "none"
            ),
            MapArea("No outline", "/gemeenten/x/", "", "c1", "50"),
        ],
        classes=maps.score_classes(),
    )
    assert svg.count("<a ") == 2  # an area without an outline cannot be drawn
    assert (
        '<a href="/gemeenten/utrecht/" class="map-area" aria-label="Utrecht: 92">'
        '<path d="M0 0L1 0 1 1Z" fill="#1d91c0" class="map-c4"><title>Utrecht: 92</title>'
    ) in svg
    assert 'fill="url(#map-hatch)" class="map-nodata"' in svg
    assert 'aria-labelledby="m-title m-desc"' in svg
    assert "style=" not in svg


@pytest.mark.django_db
def test_score_map_one_linked_path_per_active_municipality():
    world = build_dashboard(10)
    figure = maps.score_map()
    links = re.findall(r'<a href="([^"]+)" class="map-area"', figure.svg)
    assert len(links) == 10
    assert sorted(links) == sorted(m.get_absolute_url() for m in world.municipalities)
    # The known municipality scores 85: class c4 (85 to 90).
    assert (
        f'<a href="{world.known.get_absolute_url()}" class="map-area" '
        f'aria-label="{world.known.name}: 85">'
    ) in figure.svg
    assert re.search(
        rf'class="map-c4"><title>{world.known.name}: 85</title>', figure.svg
    )
    assert len(figure.rows) == 10
    assert "1 of 10 municipalities score 80 or more" in figure.summary
    legend = {c.key: n for c, n in figure.legend}
    assert legend["c4"] == 1
    assert sum(legend.values()) == 10


@pytest.mark.django_db
def test_block_and_agreement_maps_colour_by_level_and_status():
    world = build_dashboard(8)
    block = maps.block_map(world.digid)
    classes = re.findall(r'class="map-([a-z_]+)"><title>', block.svg)
    assert classes.count(Level.IN_USE) == 4
    assert classes.count(Level.PREPARING) == 2
    assert block.summary == "4 of 8 municipalities use DigiD."
    agreement = maps.agreement_map(world.agreement)
    classes = re.findall(r'class="map-([a-z_]+)"><title>', agreement.svg)
    assert classes.count(ComplianceStatus.OVERDUE) == 2
    assert f"{world.known.name}: Met" in agreement.svg


@pytest.mark.django_db
def test_cached_map_costs_one_query():
    build_dashboard(5)
    first = maps.score_map()
    with CaptureQueriesContext(connection) as queries:
        second = maps.score_map()
    assert len(queries) == 1  # the data version only; no geometry, no scores
    assert second.svg == first.svg


@pytest.mark.django_db
def test_map_changes_after_a_new_score():
    world = build_dashboard(5)
    before = maps.score_map()
    assert 'class="map-c4"><title>' + world.known.name in before.svg
    score = MunicipalityScore.objects.get(municipality=world.known)
    score.score = 10.0
    score.computed_at = score.computed_at.replace(year=2026)
    score.save()
    after = maps.score_map()
    assert 'class="map-c0"><title>' + world.known.name in after.svg


@pytest.mark.django_db
def test_map_changes_after_a_status_change_and_recompute():
    world = build_dashboard(5)
    AdoptionStatus.objects.filter(municipality=world.known).update(
        level=Level.IN_USE, planned_date=None
    )
    recompute_municipality(world.known.pk)
    before_score = maps.score_map()
    before_block = maps.block_map(world.digid)
    before_agreement = maps.agreement_map(world.agreement)
    assert f'class="map-c6"><title>{world.known.name}: 100' in before_score.svg

    AdoptionStatus.objects.filter(municipality=world.known).update(
        level=Level.NOT_STARTED, version=2
    )
    recompute_municipality(world.known.pk)

    assert f'class="map-c0"><title>{world.known.name}: 0' in maps.score_map().svg
    assert maps.block_map(world.digid).svg != before_block.svg
    assert (
        AgreementCompliance.objects.get(
            municipality=world.known, agreement=world.agreement
        ).status
        != ComplianceStatus.MET
    )
    assert maps.agreement_map(world.agreement).svg != before_agreement.svg


@pytest.mark.django_db
def test_map_is_cached_per_language():
    world = build_dashboard(3)
    english = maps.agreement_map(world.agreement)
    with translation.override("nl"):
        dutch = maps.agreement_map(world.agreement)
    assert english.svg != dutch.svg
    assert dutch.rows[0][1].startswith("/gemeenten/")
    assert english.rows[0][1].startswith("/en/gemeenten/")


def test_the_score_classes_spread_the_top_and_the_legend_says_so():
    classes = maps.score_classes()
    labels = [c.label for c in classes]
    assert labels[3:] == [
        "80 to 85",
        "85 to 90",
        "90 to 95",
        "95 or more",
        "no score yet",
    ]

    # Light to dark: each class darker than the one below it.
    def lightness(fill: str) -> float:
        r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    fills = [lightness(c.fill) for c in classes[:-1]]
    assert fills == sorted(fills, reverse=True)
