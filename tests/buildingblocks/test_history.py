"""The history /gemeenten/<slug>/geschiedenis/: a filterable, read-only audit trail."""

from __future__ import annotations

import datetime
import re
import zoneinfo

from django.urls import reverse
from django.utils import translation

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import StatusChange
from tests.buildingblocks.editing import make_blocks
from tests.factories import MunicipalityFactory, StatusChangeFactory, UserFactory

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2024, 3, day, hour, tzinfo=AMSTERDAM)


@pytest.fixture
def blocks(db):
    return make_blocks()


@pytest.fixture
def history(municipality, blocks):
    """Three changes of `municipality` and one of another municipality."""
    cio = UserFactory(username="cio-history")
    return [
        StatusChangeFactory(
            municipality=municipality,
            block=blocks["digid"],
            from_level="",
            to_level=Level.PREPARING,
            to_planned_date=datetime.date(2024, 9, 1),
            changed_by=cio,
            changed_at=at(1),
            source=StatusChange.Source.FORM,
            note="Started the project",
        ),
        StatusChangeFactory(
            municipality=municipality,
            block=blocks["digid"],
            from_level=Level.PREPARING,
            to_level=Level.IN_USE,
            from_planned_date=datetime.date(2024, 9, 1),
            to_planned_date=datetime.date(2024, 9, 1),
            to_achieved_date=datetime.date(2024, 3, 10),
            changed_by=cio,
            changed_at=at(10),
            source=StatusChange.Source.FORM,
        ),
        StatusChangeFactory(
            municipality=municipality,
            block=blocks["brp"],
            from_level=Level.NOT_STARTED,
            to_level=Level.IMPLEMENTING,
            changed_by=None,
            changed_at=at(20),
            source=StatusChange.Source.IMPORT,
        ),
        StatusChangeFactory(
            municipality=MunicipalityFactory(),
            block=blocks["brp"],
            to_level=Level.IN_USE,
            changed_at=at(5),
        ),
    ]


@pytest.fixture
def reader(client, vdp_user):
    client.force_login(vdp_user)
    return client


def history_url(municipality, language="nl", **query) -> str:
    with translation.override(language):
        url = reverse("buildingblocks:history", kwargs={"slug": municipality.slug})
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def rows(response) -> list:
    return list(response.context["table"].page.object_list.data)


def test_anonymous_users_are_sent_to_the_login_page(client, municipality):
    response = client.get(history_url(municipality))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_history_shows_this_municipalitys_changes_newest_first(
    reader, municipality, history
):
    response = reader.get(history_url(municipality, "en"))

    assert response.status_code == 200
    assert [change.pk for change in rows(response)] == [
        history[2].pk,
        history[1].pk,
        history[0].pk,
    ]
    html = response.content.decode()
    assert "cio-history" in html
    assert "Started the project" in html
    # From → to levels as badges with text; an import without a user shows "—".
    assert 'class="level level--preparing">Preparing</span>' in html
    assert 'class="level level--in_use">In use</span>' in html
    assert re.search(r"<td[^>]*>\s*—\s*</td>", html)
    assert "<h1>" in html and html.count("<h1") == 1


def test_the_history_has_no_edit_or_delete_controls(reader, municipality, history):
    html = reader.get(history_url(municipality, "en")).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert 'method="post"' not in main
    assert "/admin/" not in main
    assert not re.search(r'href="[^"]*(/delete/|/change/|/bewerken/)', main)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"block": "brp"}, [2]),
        ({"source": "form"}, [1, 0]),
        ({"date_from": "2024-03-05"}, [2, 1]),
        ({"date_to": "2024-03-10"}, [1, 0]),
        ({"date_from": "2024-03-02", "date_to": "2024-03-19"}, [1]),
        ({"q": "project"}, [0]),
        ({"q": "cio-history", "block": "digid"}, [1, 0]),
    ],
)
def test_the_history_filters_by_block_source_dates_and_text(
    reader, municipality, history, query, expected
):
    response = reader.get(history_url(municipality, **query))
    assert [change.pk for change in rows(response)] == [
        history[index].pk for index in expected
    ]


def test_the_history_sorts_by_date_both_ways(reader, municipality, history):
    response = reader.get(history_url(municipality, sort="changed_at"))
    assert [change.pk for change in rows(response)] == [
        history[0].pk,
        history[1].pk,
        history[2].pk,
    ]


def test_the_history_is_paginated_in_constant_queries(
    reader, municipality, blocks, django_assert_max_num_queries
):
    user = UserFactory()
    StatusChange.objects.bulk_create(
        StatusChange(
            municipality=municipality,
            block=blocks["digid" if index % 2 else "brp"],
            to_level=Level.PREPARING,
            changed_by=user,
            changed_at=at(1) + datetime.timedelta(minutes=index),
            source=StatusChange.Source.FORM,
        )
        for index in range(120)
    )
    with django_assert_max_num_queries(15):
        first = reader.get(history_url(municipality))
    assert len(rows(first)) == 50
    last = reader.get(history_url(municipality, page=3))
    assert len(rows(last)) == 20


def test_editors_see_a_link_to_the_editor(client, editor, municipality, history):
    client.force_login(editor)
    html = client.get(history_url(municipality)).content.decode()
    assert reverse("buildingblocks:edit", args=[municipality.slug]) in html


def test_readers_without_the_right_see_no_editor_link(reader, municipality, history):
    html = reader.get(history_url(municipality)).content.decode()
    assert reverse("buildingblocks:edit", args=[municipality.slug]) not in html
