"""The set-based recompute agrees with the pure rules, in a constant number of queries."""

from __future__ import annotations

from collections import Counter

from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from agreements.models import Requirement, ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BlockVersion, BuildingBlock
from municipalities.models import Municipality
from scoring import rules
from scoring.compute import recompute_all, recompute_municipality
from scoring.figures import GroupTotals, figure_rows
from scoring.models import (
    Aggregate,
    AgreementCompliance,
    ComplianceReason,
    ComplianceStatus,
    Measure,
    MunicipalityScore,
    Scope,
)
from tests.scoring.conftest import TODAY, add_municipalities, build_world


def expected_per_municipality(on=TODAY):
    """Scores and agreement statuses computed with scoring.rules from the ORM,
    under the block versions and requirements in force on `on`."""
    versions: dict = {}
    for v in BlockVersion.objects.select_related("block").order_by("valid_from"):
        versions.setdefault(v.block, []).append((v.valid_from, v.valid_until, v))
    blocks = []
    for block, periods in versions.items():
        version = rules.version_in_force(periods, on)
        if version is not None and version.active:
            block.weight = version.weight  # that day's weight
            blocks.append(block)
    counted = {b.id for b in blocks}
    states = {
        (s.municipality_id, s.block_id): rules.BlockState(s.level, s.planned_date)
        for s in AdoptionStatus.objects.all()
    }
    requirements = {}
    for r in Requirement.objects.all():
        if r.block_id in counted and rules.in_force(r.valid_from, r.valid_until, on):
            requirements.setdefault(r.agreement_id, []).append(r)
    result = {}
    for m in Municipality.objects.filter(active=True):

        def state(block_id, m=m):
            return states.get((m.id, block_id), rules.NOT_STARTED)

        score = rules.adoption_score((b.weight, state(b.id).level) for b in blocks)
        categories = rules.category_scores(
            (b.category, b.weight, state(b.id).level) for b in blocks
        )
        statuses = {
            a.id: rules.agreement_outcome(
                [
                    (r.minimum_level, state(r.block_id))
                    for r in requirements.get(a.id, [])
                    if r.applies_to(m.population)
                ],
                deadline=a.deadline,
                on=on,
            )
            for a in ResultAgreement.objects.all()
        }
        result[m.id] = (score, categories, statuses)
    return result


@pytest.mark.django_db
def test_recompute_all_matches_the_pure_rules(world):
    written = recompute_all(today=TODAY)
    expected = expected_per_municipality()
    assert written["scores"] == len(expected) == len(world.municipalities)
    assert written["compliance"] == len(expected) * len(world.agreements)
    scores = {s.municipality_id: s for s in MunicipalityScore.objects.all()}
    compliance = {
        (c.municipality_id, c.agreement_id): (
            c.status,
            c.reason or None,
            c.lapsed_on,
            c.exempted,
        )
        for c in AgreementCompliance.objects.all()
    }
    seen = set()
    for m_id, (score, categories, outcomes) in expected.items():
        row = scores[m_id]
        assert row.score == pytest.approx(score)
        assert row.category_scores.keys() == categories.keys()
        for key, value in categories.items():
            assert row.category_scores[key] == pytest.approx(value)
        for a_id, outcome in outcomes.items():
            assert compliance[(m_id, a_id)] == (
                outcome.status,
                outcome.reason,
                outcome.lapsed_on,
                outcome.exempted,
            )
            seen.add((outcome.status, outcome.reason, outcome.exempted))
        counts = Counter(o.status for o in outcomes.values())
        assert row.agreements_met == counts[ComplianceStatus.MET]
        assert row.agreements_on_track == counts[ComplianceStatus.ON_TRACK]
        assert row.agreements_at_risk == counts[ComplianceStatus.AT_RISK]
        assert row.agreements_overdue == counts[ComplianceStatus.OVERDUE]
        assert row.agreements_not_applicable == counts[ComplianceStatus.NOT_APPLICABLE]
        assert row.agreements_exempted == sum(o.exempted for o in outcomes.values())
    # The fixture is varied enough to exercise every status, reason and exemption.
    assert {status for status, _, _ in seen} == set(ComplianceStatus.values)
    assert {reason for _, reason, _ in seen} - {None} == set(ComplianceReason.values)
    assert (ComplianceStatus.MET, None, True) in seen


@pytest.mark.django_db
def test_rank_orders_by_score_with_ties(world):
    recompute_all(today=TODAY)
    rows = list(MunicipalityScore.objects.exclude(score=None).order_by("-score"))
    for better, worse in zip(rows, rows[1:], strict=False):
        assert better.rank <= worse.rank
        if better.score == worse.score:
            assert better.rank == worse.rank
    assert rows[0].rank == 1


@pytest.mark.django_db
def test_aggregates_equal_figures_from_the_pure_rules(world):
    recompute_all(today=TODAY)
    expected = expected_per_municipality()
    groups: dict = {}
    n_agreements = ResultAgreement.objects.count()
    for m in Municipality.objects.filter(active=True).select_related("province"):
        score, _, outcomes = expected[m.id]
        t = groups.setdefault((m.size_class, m.province.slug), GroupTotals())
        t.municipalities += 1
        t.population += m.population
        t.scores.append(score)
        statuses = Counter(o.status for o in outcomes.values())
        t.all_met += rules.meets_every_agreement(
            statuses[ComplianceStatus.MET],
            statuses[ComplianceStatus.NOT_APPLICABLE],
            n_agreements,
        )
        for a_id, outcome in outcomes.items():
            key = (a_id, outcome.status)
            t.statuses[key] = t.statuses.get(key, 0) + 1
            t.exempted[a_id] = t.exempted.get(a_id, 0) + outcome.exempted
        for s in AdoptionStatus.objects.filter(
            municipality=m,
            block__active=True,
            level__in=[Level.IN_USE, Level.NOT_APPLICABLE],
        ):
            counts = t.blocks.setdefault(s.block_id, [0, 0, 0, 0])
            i = 0 if s.level == Level.IN_USE else 1
            counts[i] += 1
            counts[i + 2] += m.population
    rows = figure_rows(
        groups,
        block_ids=BuildingBlock.objects.filter(active=True).values_list(
            "id", flat=True
        ),
        agreement_ids=ResultAgreement.objects.values_list("id", flat=True),
    )
    stored = {
        (a.scope, a.key, a.measure, a.block_id, a.agreement_id, a.status): a.value
        for a in Aggregate.objects.all()
    }
    assert len(stored) == len(rows)
    for scope, key, measure, block, agreement, status, value in rows:
        assert stored[(scope, key, measure, block, agreement, status)] == (
            pytest.approx(value) if value is not None else None
        )
    national = stored[(Scope.NATIONAL, "", Measure.MUNICIPALITIES, None, None, "")]
    assert national == len(world.municipalities)


@pytest.mark.django_db
def test_recompute_municipality_equals_the_full_recompute(world):
    recompute_all(today=TODAY)
    before = {
        s.municipality_id: (s.score, s.rank) for s in MunicipalityScore.objects.all()
    }
    target = world.municipalities[3]
    AdoptionStatus.objects.filter(municipality=target).update(
        level=Level.IN_USE, planned_date=None
    )
    written = recompute_municipality(target.id, today=TODAY)
    assert written["scores"] == 1
    single = {
        s.municipality_id: (s.score, s.rank) for s in MunicipalityScore.objects.all()
    }
    single_aggregates = sorted(
        Aggregate.objects.values_list(
            "scope", "key", "measure", "block", "agreement", "status", "value"
        ),
        key=str,
    )
    assert single[target.id] != before[target.id]
    recompute_all(today=TODAY)
    full = {
        s.municipality_id: (s.score, s.rank) for s in MunicipalityScore.objects.all()
    }
    assert single.keys() == full.keys()
    for key, (score, rank) in full.items():
        assert single[key][0] == pytest.approx(score)
        assert single[key][1] == rank
    assert single_aggregates == sorted(
        Aggregate.objects.values_list(
            "scope", "key", "measure", "block", "agreement", "status", "value"
        ),
        key=str,
    )


@pytest.mark.django_db
def test_an_inactive_municipality_loses_its_rows(world):
    recompute_all(today=TODAY)
    target = world.municipalities[0]
    Municipality.objects.filter(pk=target.pk).update(active=False)
    recompute_municipality(target.id, today=TODAY)
    assert not MunicipalityScore.objects.filter(municipality=target).exists()
    assert not AgreementCompliance.objects.filter(municipality=target).exists()


@pytest.mark.django_db
def test_no_applicable_block_gives_no_score(world):
    m = world.municipalities[0]
    AdoptionStatus.objects.filter(municipality=m).delete()
    for b in world.blocks:
        AdoptionStatus.objects.create(
            municipality=m, block=b, level=Level.NOT_APPLICABLE, note="n.v.t."
        )
    recompute_all(today=TODAY)
    row = MunicipalityScore.objects.get(municipality=m)
    assert row.score is None
    assert row.rank is None
    assert set(row.category_scores.values()) == {None}


@pytest.mark.django_db
def test_missing_statuses_count_as_not_started(municipality):
    from tests.factories import BuildingBlockFactory

    BuildingBlockFactory.create_batch(3)
    recompute_all(today=TODAY)
    assert MunicipalityScore.objects.get(municipality=municipality).score == 0


@pytest.mark.django_db
@pytest.mark.parametrize("n", [10, 300])
def test_recompute_all_stays_within_a_fixed_query_budget(
    n, django_assert_max_num_queries
):
    build_world(n, seed=n)
    # Savepoint, lock (PostgreSQL), blocks, requirements, agreements, the pass
    # into a temporary table (SQLite: drop + create), compliance and score rows
    # (PostgreSQL: one statement each; SQLite: upsert + delete), 2 group
    # queries, delete + insert aggregates, release: 12 on PostgreSQL, 15 on SQLite.
    with django_assert_max_num_queries(15):
        written = recompute_all(today=TODAY)
    assert written["scores"] == n


@pytest.mark.django_db
def test_recompute_all_issues_the_same_queries_for_10_and_300_municipalities():
    world = build_world(10)
    with CaptureQueriesContext(connection) as small:
        recompute_all(today=TODAY)
    add_municipalities(world, 290)
    with CaptureQueriesContext(connection) as large:
        written = recompute_all(today=TODAY)
    assert written["scores"] == 300
    assert len(small) == len(large)
