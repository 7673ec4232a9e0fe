"""The import pages as a KING user sees them: after applying, what was applied."""

from __future__ import annotations

import io

from django.urls import reverse
from django.utils import translation

import pytest

from buildingblocks.models import ImportBatch
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
