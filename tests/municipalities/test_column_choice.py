"""Choosing the columns of /gemeenten/, the history and the matrix (?kolommen=).

The choice is in the URL, remembered per logged-in user, kept by the links of
the page and honoured by the download; unknown names are ignored.
"""

from __future__ import annotations

import csv
import io
import re

from django.urls import reverse
from django.utils import translation

import pytest

from buildingblocks.levels import Category, Level
from buildingblocks.models import AdoptionStatus
from municipalities.models import ColumnPreference
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    StatusChangeFactory,
    UserFactory,
)
from tests.municipalities.portal_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return build_world(6)


def url(name: str, lang: str = "en", **kwargs) -> str:
    with translation.override(lang):
        return reverse(name, kwargs=kwargs or None)


def headers(response) -> list[str]:
    """The column headers of the page's table, as text."""
    html = response.content.decode()
    thead = html[html.index("<thead>") : html.index("</thead>")]
    cells = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', thead, re.S)
    texts = []
    for cell in cells:
        # The visible text only (sort hints and hidden full names left out).
        cell = re.sub(
            r'<span class="(visually-hidden|sort-link__icon)".*?</span>', "", cell
        )
        texts.append(re.sub(r"<[^>]+>", "", cell).strip())
    return texts


def csv_header(response) -> list[str]:
    text = b"".join(
        response.streaming_content if response.streaming else [response.content]
    )
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))
    start = 1 if rows[0] and rows[0][0].startswith("sep=") else 0
    return rows[start]


# --- /gemeenten/ ---------------------------------------------------------------------


def test_the_municipality_list_shows_the_default_columns(client, world):
    response = client.get(url("municipalities:list"))

    assert headers(response) == [
        "Municipality",
        "Province",
        "Adoption score",
        "Agreements met",
        "At risk",
        "Overdue",
        "Last update",
    ]
    html = response.content.decode()
    # The chooser offers every column, the hidden ones unchecked.
    assert 'name="kolommen" value="cbs_code" id="column-cbs_code">' in html
    assert re.search(r'value="province" id="column-province" checked', html)


def test_the_url_chooses_the_columns_and_unknown_names_are_ignored(client, world):
    response = client.get(
        url("municipalities:list"), {"kolommen": "population,bogus,cbs_code,<b>"}
    )

    assert response.status_code == 200
    # The table's order, the municipality always first.
    assert headers(response) == ["Municipality", "CBS code", "Population"]
    assert 'value="bogus"' not in response.content.decode()


def test_only_unknown_names_give_the_default_columns(client, world):
    response = client.get(url("municipalities:list"), {"kolommen": "bogus"})

    assert response.status_code == 200
    assert headers(response)[:2] == ["Municipality", "Province"]


def test_the_checkbox_form_is_redirected_to_one_comma_separated_value(client, world):
    # The form sends the required column (hidden) and one value per checked box.
    response = client.get(
        url("municipalities:list"),
        {
            "kolommen": ["name", "population", "cbs_code"],
            "sort": "-population",
            "page": 2,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == (
        url("municipalities:list")
        + "?kolommen=name,cbs_code,population&sort=-population"
    )


def test_sort_filter_page_and_download_links_keep_the_choice(client, world):
    response = client.get(
        url("municipalities:list"), {"kolommen": "name,population", "per_page": 25}
    )
    html = response.content.decode()

    sort_links = re.findall(r'class="sort-link" href="([^"]+)"', html)
    assert sort_links and all(
        "kolommen=name%2Cpopulation" in link for link in sort_links
    )
    export_links = re.findall(r'href="([^"]*_export=[^"]+)"', html)
    assert len(export_links) == 2
    assert all("kolommen=name%2Cpopulation" in link for link in export_links)
    assert '<input type="hidden" name="kolommen" value="name,population">' in html


def test_the_download_has_the_chosen_columns(client, world):
    response = client.get(
        url("municipalities:list"),
        {"kolommen": "name,adoption_score", "_export": "csv"},
    )

    assert response.status_code == 200
    header = csv_header(response)
    assert header[:3] == ["Municipality", "Adoption score", "Adoption score (exact)"]
    assert "Province" not in header and "CBS code" not in header


def test_the_download_without_a_choice_has_the_default_columns(client, world):
    response = client.get(url("municipalities:list"), {"_export": "csv"})

    header = csv_header(response)
    assert "Province" in header and "CBS code" not in header


# --- remembered per user ---------------------------------------------------------------


def test_a_logged_in_user_gets_the_last_choice_back(client, world):
    user = UserFactory()
    client.force_login(user)
    client.get(url("municipalities:list"), {"kolommen": "name,population"})

    assert ColumnPreference.objects.get(user=user, table="municipalities").columns == [
        "name",
        "population",
    ]
    response = client.get(url("municipalities:list"))
    assert headers(response) == ["Municipality", "Population"]
    # The download of the remembered view has its columns too.
    export = client.get(url("municipalities:list"), {"_export": "csv"})
    assert csv_header(export)[:2] == ["Municipality", "Population"]


def test_the_choice_is_per_user_and_per_table(client, world):
    first, second = UserFactory(), UserFactory()
    client.force_login(first)
    client.get(url("municipalities:list"), {"kolommen": "name,population"})
    assert headers(client.get(url("municipalities:matrix")))[:2] == [
        "Municipality",
        "Score",
    ]

    client.force_login(second)
    assert "Population" not in headers(client.get(url("municipalities:list")))


def test_anonymous_users_have_the_url_only(client, world):
    client.get(url("municipalities:list"), {"kolommen": "name,population"})

    assert not ColumnPreference.objects.exists()
    assert "Population" not in headers(client.get(url("municipalities:list")))


def test_remembering_costs_a_constant_number_of_queries(
    client, world, django_assert_max_num_queries
):
    client.force_login(UserFactory())
    client.get(url("municipalities:list"), {"kolommen": "name,population"})
    with django_assert_max_num_queries(15):
        client.get(url("municipalities:list"), {"kolommen": "name,population"})
    with django_assert_max_num_queries(15):
        client.get(url("municipalities:list"))


# --- history -------------------------------------------------------------------------


@pytest.fixture
def history(world, king_user, client):
    municipality = world.municipalities[0]
    StatusChangeFactory(
        municipality=municipality,
        block=world.digid,
        note="Aangesloten",
        changed_by=king_user,
    )
    client.force_login(king_user)
    return url("buildingblocks:history", slug=municipality.slug)


def test_the_history_hides_the_source_unless_asked(client, history):
    assert "Source" not in headers(client.get(history))

    response = client.get(history, {"kolommen": "changed_at,level,source"})

    assert headers(response) == ["When", "Level", "Source"]
    assert "Form" in response.content.decode() or "form" in response.content.decode()


# --- matrix ----------------------------------------------------------------------------


def test_matrix_headers_are_short_names_explained_in_a_list(client, world):
    world.blocks[1].short_name = "Adr."
    world.blocks[1].save()

    response = client.get(url("municipalities:matrix"))
    html = response.content.decode()

    assert '<abbr title="Addresses" aria-hidden="true">Adr.</abbr>' in html
    assert '<span class="visually-hidden">Addresses</span>' in html
    # Without a short name the (localised) name is the header; no raw codes.
    assert '<abbr title="DigiD" aria-hidden="true">DigiD</abbr>' in html
    legend = html[html.index('class="matrix-abbreviations__list"') :]
    assert "<dt>Adr.</dt>" in legend and ">Addresses</a></dd>" in legend
    assert ">bag<" not in html


def test_matrix_columns_can_be_chosen(client, world):
    response = client.get(url("municipalities:matrix"), {"kolommen": "bag"})

    assert headers(response) == ["Municipality", "Addresses"]
    assert response.content.decode().count('class="matrix__cell"') == 6


def test_matrix_filter_by_category_shows_that_categorys_blocks(client, world):
    BuildingBlockFactory(
        code="brp", name="BRP", name_en="BRP", category=Category.BASE_REGISTERS
    )

    response = client.get(
        url("municipalities:matrix"), {"category": "basisregistratie"}
    )

    assert headers(response) == ["Municipality", "Score", "BRP"]


def test_matrix_filter_by_block_and_level_narrows_the_rows(client, world):
    chosen = world.municipalities[2]
    AdoptionStatus.objects.filter(block=world.blocks[1]).delete()
    AdoptionStatusFactory(
        municipality=chosen, block=world.blocks[1], level=Level.PREPARING
    )

    response = client.get(
        url("municipalities:matrix"), {"block": "bag", "level": Level.PREPARING}
    )

    assert re.findall(
        r'<th scope="row"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    ) == [chosen.name]


def test_matrix_filter_by_block_alone_asks_for_the_level(client, world):
    response = client.get(url("municipalities:matrix"), {"block": "bag"})

    assert response.status_code == 200
    assert "Choose both a building block and a level." in response.content.decode()


def test_matrix_ignores_unknown_columns_and_remembers_a_users_choice(client, world):
    # On a Dutch page a block without a short name has its Dutch name as header.
    response = client.get(url("municipalities:matrix", "nl"), {"kolommen": "bogus,,"})
    assert response.status_code == 200
    assert headers(response) == ["Gemeente", "Score", "DigiD", "BAG", "Berichtenbox"]

    user = UserFactory()
    client.force_login(user)
    client.get(url("municipalities:matrix"), {"kolommen": "bag,score"})
    assert headers(client.get(url("municipalities:matrix"))) == [
        "Municipality",
        "Score",
        "Addresses",
    ]


def test_the_history_remembers_the_source_column(client, history, king_user):
    client.get(history, {"kolommen": "changed_at,source"})

    assert headers(client.get(history)) == ["When", "Source"]
    assert ColumnPreference.objects.get(user=king_user).table == "history"
