"""The import pages as a KING user sees them: paging through the dry run, and after
applying, what was applied."""

from __future__ import annotations

import io
import re

from django.urls import reverse
from django.utils import translation

import pytest

from buildingblocks.models import AdoptionStatus, ImportBatch, StatusChange
from tests.factories import BuildingBlockFactory, MunicipalityFactory

pytestmark = pytest.mark.django_db

HEADER = "cbs_code,building_block,level,planned_date,achieved_date,note,evidence_url"


@pytest.fixture
def no_recompute(monkeypatch):
    monkeypatch.setattr("scoring.tasks.enqueue_recompute_all", lambda: None)


def _upload(client, lines: list[str]) -> ImportBatch:
    data = io.BytesIO(("\n".join([HEADER, *lines]) + "\n").encode())
    data.name = "kwartaal.csv"
    response = client.post(reverse("buildingblocks:import"), {"file": data})
    assert response.status_code == 302
    return ImportBatch.objects.get()


def test_applied_page_shows_what_was_applied_and_the_message_once(
    client, king_user, no_recompute, django_capture_on_commit_callbacks
):
    municipalities = [
        MunicipalityFactory(cbs_code="GM0344", name="Utrecht", slug="utrecht"),
        MunicipalityFactory(cbs_code="GM0345", name="Veenendaal", slug="veenendaal"),
    ]
    block = BuildingBlockFactory(code="digid", name="DigiD")
    client.force_login(king_user)
    batch = _upload(
        client,
        [f"{m.cbs_code},{block.code},in_use,,2024-01-15,," for m in municipalities],
    )

    with django_capture_on_commit_callbacks(execute=True):
        with translation.override("nl"):
            apply_url = reverse("buildingblocks:import-apply", args=[batch.pk])
            preview_url = batch.get_absolute_url()
        preview = client.get(f"/en{preview_url}")
        response = client.post(
            f"/en{apply_url}",
            {"seen_versions": preview.context["seen_versions"]},
            follow=True,
        )
    html = response.content.decode()
    batch.refresh_from_db()

    assert response.status_code == 200
    # The message, once (base.html prints it; the page does not again).
    assert html.count("Import applied: 2 statuses changed") == 1
    assert html.count('class="message message--success"') == 1
    # The applied summary, not a new dry run ("would change 0").
    assert f"Applied: 2 statuses changed, batch {batch.batch_id}, at " in html
    assert f"by {king_user.get_username()}." in html
    assert 'data-testid="applied-changes">2<' in html
    assert 'data-testid="changes"' not in html
    assert "Would change" not in html
    assert html.count('class="import-applied"') == 2
    assert html.count("<h1") == 1


# --- paging through the preview ---------------------------------------------


@pytest.fixture
def pages_of_two(monkeypatch):
    monkeypatch.setattr("buildingblocks.views.PREVIEW_PER_PAGE", 2)


@pytest.fixture
def five_municipalities(db):
    block = BuildingBlockFactory(code="digid", name="DigiD")
    municipalities = [
        MunicipalityFactory(cbs_code=f"GM010{i}", name=f"Stad {i}") for i in range(5)
    ]
    return block, municipalities


def _rows(municipalities, level: str = "in_use") -> list[str]:
    return [f"{m.cbs_code},digid,{level},,2024-01-15,," for m in municipalities]


def _shown_rows(response) -> list[int]:
    return [change.row for change, _name, _fields in response.context["changes"]]


def test_the_preview_shows_page_two_and_answers_nonsense_with_page_one(
    client, king_user, pages_of_two, five_municipalities
):
    _block, municipalities = five_municipalities
    client.force_login(king_user)
    batch = _upload(client, _rows(municipalities))
    url = batch.get_absolute_url()

    first, second = client.get(url), client.get(f"{url}?page=2")
    html = second.content.decode()

    assert _shown_rows(first) == [2, 3]
    assert _shown_rows(second) == [4, 5]
    assert second.context["paginator"].num_pages == 3
    assert re.search(r'aria-current="page">(<span[^>]*>[^<]*</span>)?2</a>', html)
    # The summary and the apply button still speak of the whole file.
    assert 'data-testid="changes">5<' in html
    assert re.search(r"Apply 5 changes|5 wijzigingen toepassen", html)
    for nonsense in ("x", "", "2.5", "%00"):
        response = client.get(f"{url}?page={nonsense}")
        assert response.status_code == 200
        assert _shown_rows(response) == [2, 3], nonsense
    assert _shown_rows(client.get(f"{url}?page=99")) == [6]
    # Paging reads the stored batch: no new upload.
    assert ImportBatch.objects.count() == 1


def test_a_page_shows_the_errors_and_the_changes_of_its_rows(
    client, king_user, pages_of_two, five_municipalities
):
    _block, municipalities = five_municipalities
    lines = _rows(municipalities)
    lines[1] = lines[1].replace("in_use", "almost_done")  # row 3
    lines[2] = lines[2].replace("in_use", "almost_done")  # row 4
    client.force_login(king_user)
    url = _upload(client, lines).get_absolute_url()

    first, second = client.get(url), client.get(f"{url}?page=2")

    assert _shown_rows(first) == [2]
    assert [e.row for e in first.context["errors"]] == [3]
    assert _shown_rows(second) == [5]
    assert [e.row for e in second.context["errors"]] == [4]
    assert first.context["paginator"].count == 5


def test_applying_from_page_two_applies_every_row(
    client,
    king_user,
    pages_of_two,
    five_municipalities,
    no_recompute,
    django_capture_on_commit_callbacks,
):
    block, municipalities = five_municipalities
    client.force_login(king_user)
    batch = _upload(client, _rows(municipalities))
    second = client.get(f"{batch.get_absolute_url()}?page=2")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("buildingblocks:import-apply", args=[batch.pk]),
            {"seen_versions": second.context["seen_versions"]},
        )

    batch.refresh_from_db()
    assert batch.changed_count == 5
    assert AdoptionStatus.objects.filter(block=block, level="in_use").count() == 5
    assert StatusChange.objects.filter(batch_id=batch.batch_id).count() == 5
    # The applied page pages through what was changed too.
    url = batch.get_absolute_url()
    assert client.get(url).content.decode().count('class="import-applied"') == 2
    last = client.get(f"{url}?page=3").content.decode()
    assert last.count('class="import-applied"') == 1


def _preview_queries(client, django_assert_max_num_queries, url: str) -> int:
    with django_assert_max_num_queries(15) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("page", ["", "?page=2"])
def test_the_preview_query_count_does_not_grow_with_the_file(
    client, king_user, pages_of_two, django_assert_max_num_queries, page
):
    BuildingBlockFactory(code="digid")
    client.force_login(king_user)

    def preview_of(count: int) -> str:
        ImportBatch.objects.all().delete()
        municipalities = [MunicipalityFactory() for _ in range(count)]
        return _upload(client, _rows(municipalities)).get_absolute_url() + page

    small = _preview_queries(client, django_assert_max_num_queries, preview_of(4))
    large = _preview_queries(client, django_assert_max_num_queries, preview_of(20))
    assert small == large
