"""Pages tell what a status rests on: reasons, exemptions, applicability and
synthetic postponements (issue 14)."""

from __future__ import annotations

import datetime

import pytest

from agreements.models import ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from scoring.compute import recompute_all
from scoring.models import AgreementCompliance, MunicipalityScore
from tests.factories import (
    BuildingBlockFactory,
    DeadlineRevisionFactory,
    MunicipalityFactory,
    RequirementFactory,
    ResultAgreementFactory,
)
from tests.test_exports import read_csv_bytes

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2014, 6, 15)


@pytest.fixture
def setting():
    """One municipality of 20,000: agreement 1 planned in the past, agreement 2
    met on an exemption, agreement 3 only for 100,000+ (not applicable)."""
    m = MunicipalityFactory(population=20_000, name="Klein")
    a, b, c, d = (BuildingBlockFactory(order=i) for i in range(4))
    one = ResultAgreementFactory(number=1, deadline=datetime.date(2015, 1, 1))
    two = ResultAgreementFactory(number=2)
    three = ResultAgreementFactory(number=3, title="Klantcontactcentrum")
    RequirementFactory(agreement=one, block=a)
    RequirementFactory(agreement=two, block=b)
    RequirementFactory(agreement=two, block=c)
    RequirementFactory(agreement=three, block=d, min_population=100_000)
    AdoptionStatus.objects.bulk_create(
        [
            AdoptionStatus(
                municipality=m,
                block=a,
                level=Level.PREPARING,
                planned_date=datetime.date(2014, 3, 1),
            ),
            AdoptionStatus(municipality=m, block=b, level=Level.IN_USE),
            AdoptionStatus(
                municipality=m, block=c, level=Level.NOT_APPLICABLE, note="geen"
            ),
        ]
    )
    recompute_all(today=TODAY)
    return m, (one, two, three)


def test_the_recompute_stores_reason_exemption_and_applicability(setting):
    m, (one, two, three) = setting
    rows = {
        c.agreement_id: c for c in AgreementCompliance.objects.filter(municipality=m)
    }
    assert (rows[one.pk].status, rows[one.pk].reason) == ("at_risk", "plan_expired")
    assert rows[one.pk].lapsed_on == datetime.date(2014, 3, 1)
    assert (rows[two.pk].status, rows[two.pk].exempted) == ("met", True)
    assert rows[three.pk].status == "not_applicable"
    score = MunicipalityScore.objects.get(municipality=m)
    assert (score.agreements_met, score.agreements_exempted) == (1, 1)
    assert score.agreements_not_applicable == 1


def test_the_scorecard_shows_the_reason_the_exemption_and_nvt(client, setting):
    m, _ = setting
    html = client.get(f"/gemeenten/{m.slug}/").content.decode()
    assert "planning verlopen: 1 maart 2014" in html
    assert "vrijstelling" in html
    assert "status--not_applicable" in html
    assert "Niet van toepassing" in html


def test_the_agreement_page_shows_its_applicability_condition(client, setting):
    html = client.get("/en/resultaatafspraken/3/").content.decode()
    assert "municipalities with 100,000 inhabitants or more" in html
    html = client.get("/en/resultaatafspraken/1/").content.decode()
    assert "every municipality" in html


def test_the_laggards_carry_their_reason(client, setting):
    html = client.get("/en/resultaatafspraken/1/").content.decode()
    assert "plan expired" in html


def test_a_synthetic_postponement_is_not_labelled_end_of_programme(client, setting):
    m, (one, two, _) = setting
    for agreement in (one, two):
        DeadlineRevisionFactory(
            agreement=agreement,
            old_deadline=agreement.deadline,
            new_deadline=datetime.date(2016, 1, 1),
            synthetic=agreement is one,
        )
    ResultAgreement.objects.filter(pk__in=[one.pk, two.pk]).update(
        deadline=datetime.date(2016, 1, 1), deadline_is_reference=True
    )
    html = client.get(f"/gemeenten/{m.slug}/").content.decode()
    assert "uitgesteld (synthetisch); oorspronkelijk 1 januari 2015" in html
    assert "(uitgesteld; oorspronkelijk" in html
    assert "einde programma" in html  # agreement 3 keeps the programme end
    assert html.count("einde programma") == 1


def test_the_lists_state_denominators_and_exemptions(client, setting):
    def export(url: str) -> list[dict[str, str]]:
        header, *rows = read_csv_bytes(client.get(url).content)
        return [dict(zip(header, row, strict=True)) for row in rows]

    _, (one, two, three) = setting
    rows = export("/en/resultaatafspraken/?_export=csv")
    by_number = {row["No."]: row for row in rows}
    assert by_number["2"]["Of which on an exemption"] == "1"
    assert by_number["3"]["Of municipalities (applicable)"] == "0"
    assert by_number["3"]["Municipalities that meet it"] == ""
    # Counts are whole numbers: nothing rounded away, so no "(exact)" twin column.
    assert not [name for name in rows[0] if name.startswith("Of ") and "exact" in name]
    blocks = export("/en/bouwstenen/?_export=csv")
    # Block c is not applicable for the one municipality: no denominator left.
    assert sorted(row["Of municipalities (applicable)"] for row in blocks) == [
        "0",
        "1",
        "1",
        "1",
    ]
