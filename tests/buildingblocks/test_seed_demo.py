"""`manage.py seed_demo`: demo users, the synthetic history and synthetic deadlines."""

from __future__ import annotations

import datetime
import hashlib
import io
import random
import statistics
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.utils import timezone

import pytest

from agreements.models import DeadlineRevision, ResultAgreement
from buildingblocks import demo
from buildingblocks.levels import LEVEL_RANK, LEVEL_VALUES, Level
from buildingblocks.mergers import carry_over
from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from buildingblocks.validation import StatusValues
from municipalities.models import EditorMembership, Merger, Municipality
from tests.factories import (
    BuildingBlockFactory,
    DeadlineRevisionFactory,
    MunicipalityFactory,
    RequirementFactory,
    ResultAgreementFactory,
    StatusChangeFactory,
)

BLOCK_CODES = (
    "bag",
    "brp",
    "digid",
    "antwoord",
    "eherkenning",
    "mijnoverheid_berichtenbox",
    "digilevering",
    "digimelding",
)
# (cbs code, slug, population): the editors' municipalities, then more of each size.
FIXTURE_MUNICIPALITIES = [
    ("GM0394", "haarlemmermeer", 165_255),
    ("GM0344", "utrecht", 376_757),
    ("GM0193", "zwolle", 133_810),
    ("GM0301", "zutphen", 49_028),
    ("GM0088", "schiermonnikoog", 971),
    ("GM0377", "bloemendaal", 23_592),
    ("GM0397", "heemstede", 27_638),
]
FIXTURE_MUNICIPALITIES += [
    (f"GM81{i:02d}", f"groot-{i}", 120_000 + i * 10_000) for i in range(7)
]
FIXTURE_MUNICIPALITIES += [
    (f"GM82{i:02d}", f"klein-{i}", 2_000 + i * 700) for i in range(9)
]
FIXTURE_MUNICIPALITIES += [
    (f"GM83{i:02d}", f"midden-{i}", 12_000 + i * 9_000) for i in range(7)
]


def seed(seed_value: int = 42) -> str:
    out = io.StringIO()
    call_command("seed_demo", seed=seed_value, stdout=out)
    return out.getvalue()


@pytest.fixture
def reference(db):
    """About 30 municipalities of every size, 8 real block codes and 3 agreements."""
    for code, slug, population in FIXTURE_MUNICIPALITIES:
        MunicipalityFactory(
            cbs_code=code, slug=slug, name=slug.title(), population=population
        )
    MunicipalityFactory(cbs_code="GM8999", slug="opgeheven", active=False)
    blocks = {code: BuildingBlockFactory(code=code) for code in BLOCK_CODES}
    BuildingBlockFactory(code="vervallen", active=False)
    for number, codes in ((3, ["antwoord"]), (4, ["digid"]), (17, ["digilevering"])):
        agreement = ResultAgreementFactory(number=number)
        for code in codes:
            RequirementFactory(agreement=agreement, block=blocks[code])
    return blocks


def history_digest() -> str:
    rows = StatusChange.objects.order_by(
        "municipality__cbs_code", "block__code", "changed_at"
    ).values_list("municipality__cbs_code", "block__code", "to_level", "changed_at")
    text = "\n".join(
        f"{m}|{b}|{level}|{timezone.localdate(at).isoformat()}"
        for m, b, level, at in rows
    )
    return hashlib.sha256(text.encode()).hexdigest()


def levels_on(day: datetime.date) -> dict[tuple[int, int], str]:
    """The level of every pair on `day`, rebuilt from the history."""
    levels: dict[tuple[int, int], str] = {}
    for m, b, level, at in StatusChange.objects.order_by(
        "changed_at", "id"
    ).values_list("municipality_id", "block_id", "to_level", "changed_at"):
        if timezone.localdate(at) <= day:
            levels[(m, b)] = level
    return levels


def share_in_use(levels: dict) -> float:
    return sum(level == Level.IN_USE for level in levels.values()) / len(levels)


# --- refusing without reference data ------------------------------------------------


@pytest.mark.django_db
def test_refuses_without_reference_data():
    with pytest.raises(CommandError, match="load_reference_data"):
        seed()


@pytest.mark.django_db
def test_refuses_without_agreements():
    MunicipalityFactory()
    BuildingBlockFactory()
    with pytest.raises(CommandError, match="load_reference_data"):
        seed()


# --- users --------------------------------------------------------------------------


def test_demo_users_have_password_demo_and_one_role_each(reference):
    seed()
    expected = {
        "vdp": "vdp",
        "king": "king_staff",
        "cio-haarlemmermeer": "municipal_editor",
        "cio-utrecht": "municipal_editor",
        "cio-zwolle": "municipal_editor",
        "cio-zutphen": "municipal_editor",
        "cio-schiermonnikoog": "municipal_editor",
        "cio-regio-west": "municipal_editor",
    }
    for username, group in expected.items():
        user = get_user_model().objects.get(username=username)
        assert user.check_password("demo"), username
        assert user.is_active
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert not user.is_superuser
    assert get_user_model().objects.get(username="king").is_staff
    assert not get_user_model().objects.get(username="vdp").is_staff


def test_editors_edit_their_own_municipalities(reference):
    seed()
    memberships = defaultdict(set)
    for username, slug in EditorMembership.objects.values_list(
        "user__username", "municipality__slug"
    ):
        memberships[username].add(slug)
    assert memberships["cio-haarlemmermeer"] == {"haarlemmermeer"}
    assert memberships["cio-schiermonnikoog"] == {"schiermonnikoog"}
    assert memberships["cio-regio-west"] == {"bloemendaal", "heemstede"}
    assert "vdp" not in memberships and "king" not in memberships


def test_king_staff_may_manage_reference_data_and_users_in_the_admin(reference):
    seed()
    king = get_user_model().objects.get(username="king")
    for permission in (
        "municipalities.change_municipality",
        "municipalities.add_merger",
        "municipalities.add_editormembership",
        "buildingblocks.change_buildingblock",
        "buildingblocks.change_adoptionstatus",
        "buildingblocks.view_statuschange",
        "agreements.change_resultagreement",
        "agreements.add_deadlinerevision",
        "auth.add_user",
        "auth.change_user",
    ):
        assert king.has_perm(permission), permission
    assert not king.has_perm("buildingblocks.delete_statuschange")
    assert not king.has_perm("auth.delete_group")
    vdp = get_user_model().objects.get(username="vdp")
    assert not vdp.has_perm("municipalities.change_municipality")


def test_rerunning_resets_the_demo_users(reference):
    seed()
    User = get_user_model()
    vdp = User.objects.get(username="vdp")
    vdp.set_password("changed")
    vdp.is_superuser = True
    vdp.save()
    EditorMembership.objects.filter(user__username="cio-utrecht").delete()
    seed()
    assert User.objects.get(username="vdp").check_password("demo")
    assert not User.objects.get(username="vdp").is_superuser
    assert EditorMembership.objects.filter(user__username="cio-utrecht").count() == 1
    assert User.objects.filter(username__in=["vdp", "king"]).count() == 2


# --- statuses and history -----------------------------------------------------------


def test_every_active_pair_has_one_status_equal_to_its_last_change(reference):
    seed()
    active = Municipality.objects.active().count()
    blocks = BuildingBlock.objects.filter(active=True).count()
    assert AdoptionStatus.objects.count() == active * blocks == 30 * 8
    assert not AdoptionStatus.objects.filter(municipality__active=False).exists()
    assert not AdoptionStatus.objects.filter(block__active=False).exists()

    last = {}
    for change in StatusChange.objects.order_by("changed_at", "id"):
        last[(change.municipality_id, change.block_id)] = change
    assert len(last) == active * blocks
    for status in AdoptionStatus.objects.all():
        change = last[(status.municipality_id, status.block_id)]
        assert status.level == change.to_level
        assert status.planned_date == change.to_planned_date
        assert status.achieved_date == change.to_achieved_date
        assert status.updated_at == change.changed_at
        assert status.version == 1
        assert status.updated_by is None


def test_history_is_a_chain_from_a_2011_baseline(reference):
    seed()
    chains = defaultdict(list)
    for change in StatusChange.objects.order_by("changed_at", "id"):
        chains[(change.municipality_id, change.block_id)].append(change)
    for changes in chains.values():
        first = changes[0]
        assert first.from_level == ""
        assert timezone.localdate(first.changed_at) == datetime.date(2011, 1, 1)
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_level == before.to_level
            assert after.from_planned_date == before.to_planned_date
            assert after.from_achieved_date == before.to_achieved_date
            assert after.changed_at > before.changed_at
    assert StatusChange.objects.exclude(source=StatusChange.Source.SEED).count() == 0
    assert StatusChange.objects.filter(changed_by__isnull=False).count() == 0
    assert not StatusChange.objects.exclude(note__startswith=demo.SYNTHETIC).exists()


def test_levels_progress_with_planned_dates_while_preparing_or_implementing(reference):
    seed()
    levels = set(AdoptionStatus.objects.values_list("level", flat=True))
    assert {Level.NOT_STARTED, Level.IN_USE} <= levels
    assert levels & {Level.PREPARING, Level.IMPLEMENTING}
    for level in (Level.PREPARING, Level.IMPLEMENTING):
        assert not StatusChange.objects.filter(
            to_level=level, to_planned_date__isnull=True
        ).exists()
    assert not StatusChange.objects.filter(
        to_level=Level.NOT_STARTED, to_planned_date__isnull=False
    ).exists()
    # Some plans slip: a change that keeps the level and moves the planned date.
    assert any(
        c.from_level == c.to_level and c.from_planned_date != c.to_planned_date
        for c in StatusChange.objects.filter(
            to_level__in=[Level.PREPARING, Level.IMPLEMENTING]
        )
    )


def test_achieved_dates_only_in_use_and_never_in_the_future(reference):
    seed()
    today = timezone.localdate()
    assert (
        not AdoptionStatus.objects.exclude(level=Level.IN_USE)
        .filter(achieved_date__isnull=False)
        .exists()
    )
    assert not AdoptionStatus.objects.filter(
        level=Level.IN_USE, achieved_date__isnull=True
    ).exists()
    assert not AdoptionStatus.objects.filter(achieved_date__gt=today).exists()
    assert (
        not StatusChange.objects.exclude(to_level=Level.IN_USE)
        .filter(to_achieved_date__isnull=False)
        .exists()
    )
    assert not StatusChange.objects.filter(changed_at__gt=timezone.now()).exists()
    for change in StatusChange.objects.filter(to_level=Level.IN_USE).exclude(
        from_level=""
    ):
        assert change.to_achieved_date <= timezone.localdate(change.changed_at)


def test_not_applicable_rows_have_notes(reference):
    seed()
    not_applicable = AdoptionStatus.objects.filter(level=Level.NOT_APPLICABLE)
    assert not_applicable.exists()  # antwoord for the smallest municipalities
    for status in not_applicable:
        assert status.note.strip()
    assert (
        not AdoptionStatus.objects.exclude(level=Level.NOT_APPLICABLE)
        .exclude(note="")
        .exists()
    )


def test_some_in_use_rows_have_evidence_on_the_municipality_site(reference):
    seed()
    with_evidence = AdoptionStatus.objects.exclude(evidence_url="")
    assert with_evidence.exists()
    for status in with_evidence.select_related("municipality"):
        assert status.level == Level.IN_USE
        assert status.evidence_url.startswith(
            f"https://www.{status.municipality.slug}.nl/"
        )


def test_larger_municipalities_adopt_more(reference):
    seed()
    scores = defaultdict(list)
    for size, level in AdoptionStatus.objects.exclude(
        level=Level.NOT_APPLICABLE
    ).values_list("municipality__size_class", "level"):
        scores[size].append(float(LEVEL_VALUES[level]))
    assert statistics.mean(scores["xl"]) > statistics.mean(scores["xs"])


def test_adoption_rises_over_the_years(reference):
    seed()
    end_2012 = share_in_use(levels_on(datetime.date(2012, 12, 31)))
    end_2015 = share_in_use(levels_on(datetime.date(2015, 12, 31)))
    today = share_in_use(levels_on(timezone.localdate()))
    assert end_2012 < end_2015 < today
    assert 0.6 < today < 0.97


# --- reproducibility ------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data(reference):
    seed(42)
    first = history_digest()
    seed(42)
    assert history_digest() == first
    seed(7)
    assert history_digest() != first


def test_rerunning_does_not_duplicate(reference):
    seed()
    counts = (
        StatusChange.objects.count(),
        AdoptionStatus.objects.count(),
        DeadlineRevision.objects.count(),
        EditorMembership.objects.count(),
        get_user_model().objects.count(),
    )
    seed()
    assert (
        StatusChange.objects.count(),
        AdoptionStatus.objects.count(),
        DeadlineRevision.objects.count(),
        EditorMembership.objects.count(),
        get_user_model().objects.count(),
    ) == counts


def test_history_from_other_sources_is_kept(reference):
    kept = StatusChangeFactory(
        municipality=Municipality.objects.get(slug="utrecht"),
        block=reference["digid"],
        source=StatusChange.Source.FORM,
    )
    seed()
    seed()
    assert StatusChange.objects.filter(pk=kept.pk).exists()
    assert StatusChange.objects.exclude(source=StatusChange.Source.SEED).count() == 1


def _municipality_inputs(count: int = 12) -> list[demo.MunicipalityInput]:
    sizes = ["xs", "s", "m", "l", "xl"]
    return [
        demo.MunicipalityInput(
            id=i, cbs_code=f"GM{1000 + i}", slug=f"g{i}", size_class=sizes[i % 5]
        )
        for i in range(count)
    ]


def _history(municipalities, blocks, *, rng, now) -> demo.History:
    """The history without mergers."""
    return demo.generate_history_with_mergers(
        _places(municipalities),
        blocks,
        [],
        carry=lambda states, date: pytest.fail("no merger to carry"),
        rng=rng,
        now=now,
    )


def test_only_the_end_date_changes_the_history():
    """A later `now` adds changes after the earlier one and changes nothing before it."""
    municipalities = _municipality_inputs()
    blocks = [demo.BlockInput(id=i, code=code) for i, code in enumerate(BLOCK_CODES)]
    early_now = datetime.datetime(2016, 6, 1, tzinfo=datetime.UTC)
    late_now = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
    early = _history(municipalities, blocks, rng=random.Random(1), now=early_now)
    late = _history(municipalities, blocks, rng=random.Random(1), now=late_now)
    assert early.changes == [c for c in late.changes if c.changed_at <= early_now]
    assert len(late.changes) > len(early.changes)


def test_history_does_not_depend_on_row_order():
    municipalities = _municipality_inputs()
    blocks = [demo.BlockInput(id=i, code=code) for i, code in enumerate(BLOCK_CODES)]
    now = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
    one = _history(municipalities, blocks, rng=random.Random(3), now=now)
    other = _history(municipalities[::-1], blocks[::-1], rng=random.Random(3), now=now)
    assert one == other


# --- deadlines ----------------------------------------------------------------------


def test_some_agreements_are_postponed_and_one_lies_ahead(reference):
    seed()
    revisions = DeadlineRevision.objects.all()
    assert revisions.exists()
    assert not revisions.filter(synthetic=False).exists()
    today = timezone.localdate()
    for agreement in ResultAgreement.objects.prefetch_related("revisions"):
        chain = list(agreement.revisions.all())
        if not chain:
            assert agreement.deadline == agreement.original_deadline
            continue
        assert chain[0].old_deadline == agreement.original_deadline
        for before, after in zip(chain, chain[1:], strict=False):
            assert after.old_deadline == before.new_deadline
            assert after.decided_on >= before.decided_on
        assert agreement.deadline == chain[-1].new_deadline
        assert all(r.reason and r.decided_on <= today for r in chain)
    # The agreement with the latest block (Digilevering) is due after today.
    assert ResultAgreement.objects.get(number=17).deadline > today
    assert ResultAgreement.objects.filter(deadline__lt=today).exists()


def test_rerunning_resets_synthetic_revisions_and_keeps_real_ones(reference):
    agreement = ResultAgreement.objects.get(number=4)
    DeadlineRevisionFactory(
        agreement=agreement,
        old_deadline=datetime.date(2015, 1, 1),
        new_deadline=datetime.date(2015, 7, 1),
        decided_on=datetime.date(2014, 5, 1),
        synthetic=False,
    )
    agreement.deadline = datetime.date(2015, 7, 1)
    agreement.save()
    seed()
    after_first = list(
        DeadlineRevision.objects.values_list(
            "agreement__number", "old_deadline", "new_deadline", "decided_on"
        )
    )
    seed()
    assert (
        list(
            DeadlineRevision.objects.values_list(
                "agreement__number", "old_deadline", "new_deadline", "decided_on"
            )
        )
        == after_first
    )
    assert DeadlineRevision.objects.filter(synthetic=False).count() == 1
    agreement.refresh_from_db()
    synthetic = list(agreement.revisions.filter(synthetic=True))
    if synthetic:
        assert synthetic[0].old_deadline == datetime.date(2015, 7, 1)
        assert agreement.deadline == synthetic[-1].new_deadline
    else:
        assert agreement.deadline == datetime.date(2015, 7, 1)


def test_plan_deadline_revisions_for_the_nineteen_agreements():
    codes = list(demo.BLOCK_PROFILES)
    agreements = [
        demo.AgreementInput(
            id=n,
            number=n,
            deadline=datetime.date(2015, 1, 1),
            block_codes=(codes[n % len(codes)],),
        )
        for n in range(1, 20)
    ]
    today = datetime.date(2026, 3, 1)
    plans = demo.plan_deadline_revisions(agreements, rng=random.Random(42), today=today)
    postponed = {plan.agreement_id for plan in plans}
    assert 5 <= len(postponed) <= 7
    last = {plan.agreement_id: plan.new_deadline for plan in plans}
    assert sum(deadline > today for deadline in last.values()) == 2
    for plan in plans:
        assert plan.new_deadline > plan.old_deadline
        assert plan.decided_on < plan.old_deadline or plan.new_deadline > today


# --- the real reference data ----------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_on_the_real_reference_data():
    call_command("load_reference_data", stdout=io.StringIO())
    started = timezone.now()
    output = seed()
    took = (timezone.now() - started).total_seconds()
    assert took < 30
    active = Municipality.objects.active().count()
    blocks = BuildingBlock.objects.filter(active=True).count()
    assert active > 300 and blocks >= 20
    assert AdoptionStatus.objects.count() == active * blocks
    assert "history rows" in output

    levels = dict(AdoptionStatus.objects.values_list("pk", "level"))
    in_use = share_in_use(levels)
    assert 0.75 <= in_use <= 0.9
    by_size = defaultdict(list)
    for size, level in AdoptionStatus.objects.values_list(
        "municipality__size_class", "level"
    ):
        by_size[size].append(level == Level.IN_USE)
    assert statistics.mean(by_size["xs"]) + 0.05 < statistics.mean(by_size["xl"])
    not_applicable = AdoptionStatus.objects.filter(level=Level.NOT_APPLICABLE).count()
    assert 0.003 * active * blocks < not_applicable < 0.02 * active * blocks
    assert get_user_model().objects.filter(username__startswith="cio-").count() >= 6
    assert ResultAgreement.objects.filter(
        deadline__gt=timezone.localdate()
    ).count() in (1, 2)
    assert 5 <= DeadlineRevision.objects.values("agreement").distinct().count() <= 7


# --- mergers ------------------------------------------------------------------------


@pytest.fixture
def with_mergers(reference):
    """A new municipality formed in 2015 from two, and one split over two in 2021."""
    new = MunicipalityFactory(
        cbs_code="GM1931",
        slug="nieuwerwaard",
        name="Nieuwerwaard",
        population=57_000,
        valid_from=datetime.date(2015, 1, 1),
    )
    formers = [
        MunicipalityFactory(
            cbs_code=code,
            slug=slug,
            name=slug.title(),
            population=0,
            active=False,
            valid_until=datetime.date(2014, 12, 31),
            successor=new,
        )
        for code, slug in (("GM0491", "oudkerk"), ("GM0608", "oudhoven"))
    ]
    formed = Merger.objects.create(
        date=datetime.date(2015, 1, 1), successor=new, applied_at=timezone.now()
    )
    formed.merged.set(formers)
    split = MunicipalityFactory(
        cbs_code="GM0788",
        slug="haaren",
        name="Haaren",
        population=0,
        active=False,
        valid_until=datetime.date(2020, 12, 31),
        successor=Municipality.objects.get(slug="utrecht"),
    )
    for slug in ("utrecht", "zwolle"):
        merger = Merger.objects.create(
            date=datetime.date(2021, 1, 1),
            successor=Municipality.objects.get(slug=slug),
            applied_at=timezone.now(),
        )
        merger.merged.set([split])
    return reference


def assert_history_within_validity() -> None:
    for m in Municipality.objects.filter(
        Q(valid_from__isnull=False) | Q(valid_until__isnull=False)
    ):
        days = [
            timezone.localdate(at)
            for at in StatusChange.objects.filter(municipality=m).values_list(
                "changed_at", flat=True
            )
        ]
        if m.valid_from:
            assert min(days, default=m.valid_from) >= m.valid_from, m.name
        if m.valid_until:
            assert max(days, default=m.valid_until) <= m.valid_until, m.name


def assert_every_merger_has_merger_rows() -> None:
    blocks = BuildingBlock.objects.filter(active=True).count()
    for merger in Merger.objects.filter(date__gt=demo.HISTORY_START):
        rows = StatusChange.objects.filter(
            source=StatusChange.Source.MERGER, batch_id=f"merger-{merger.pk}"
        )
        assert rows.count() == blocks, merger
        assert set(rows.values_list("municipality_id", flat=True)) == {
            merger.successor_id
        }
        assert {timezone.localdate(r.changed_at) for r in rows} == {merger.date}


def test_no_municipality_has_history_outside_its_existence(with_mergers):
    seed()
    assert_history_within_validity()
    new = Municipality.objects.get(slug="nieuwerwaard")
    first = StatusChange.objects.filter(municipality=new).earliest("changed_at")
    assert first.source == StatusChange.Source.MERGER
    assert first.from_level == ""
    # The former municipalities have a history up to their last day, no status.
    assert StatusChange.objects.filter(municipality__slug="oudkerk").exists()
    assert not AdoptionStatus.objects.filter(municipality__active=False).exists()


def test_every_merger_has_merger_rows_carried_by_the_documented_rule(with_mergers):
    seed()
    assert_every_merger_has_merger_rows()
    day_before = levels_on(datetime.date(2014, 12, 31))
    new = Municipality.objects.get(slug="nieuwerwaard")
    formers = list(Municipality.objects.filter(successor=new))
    for block in BuildingBlock.objects.filter(active=True):
        row = StatusChange.objects.get(
            municipality=new, block=block, source=StatusChange.Source.MERGER
        )
        expected = carry_over(
            [(m.name, StatusValues(day_before[(m.pk, block.pk)])) for m in formers],
            date=datetime.date(2015, 1, 1),
        )
        assert row.to_level == expected.level
        assert "Oudkerk" in row.note and "Oudhoven" in row.note
    # A split municipality goes into each of its successors, which take part themselves.
    for slug in ("utrecht", "zwolle"):
        notes = StatusChange.objects.filter(
            municipality__slug=slug, source=StatusChange.Source.MERGER
        ).values_list("note", flat=True)
        assert all("Haaren" in n and slug.title() in n for n in notes)


def test_the_history_after_a_merger_is_a_chain_that_never_falls_below_the_carry(
    with_mergers,
):
    seed()
    chains = defaultdict(list)
    for change in StatusChange.objects.order_by("changed_at", "id"):
        chains[(change.municipality_id, change.block_id)].append(change)
    for changes in chains.values():
        assert changes[0].from_level == ""
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_level == before.to_level
            assert after.from_planned_date == before.to_planned_date
            assert after.changed_at > before.changed_at
            if before.source == StatusChange.Source.MERGER and after.to_level in (
                LEVEL_RANK
            ):
                assert LEVEL_RANK[after.to_level] >= LEVEL_RANK[before.to_level]
    # The current status is the last change, merger or not.
    for status in AdoptionStatus.objects.filter(municipality__slug="nieuwerwaard"):
        last = chains[(status.municipality_id, status.block_id)][-1]
        assert (status.level, status.planned_date) == (
            last.to_level,
            last.to_planned_date,
        )


def test_rerunning_with_mergers_replaces_the_merger_rows(with_mergers):
    seed()
    digest = history_digest()
    count = StatusChange.objects.count()
    seed()
    assert StatusChange.objects.count() == count
    assert history_digest() == digest


@pytest.mark.django_db
def test_real_mergers_are_carried():
    call_command("load_reference_data", stdout=io.StringIO())
    seed()
    assert_history_within_validity()
    assert_every_merger_has_merger_rows()
    krimpenerwaard = Municipality.objects.get(cbs_code="GM1931")
    first = StatusChange.objects.filter(municipality=krimpenerwaard).earliest(
        "changed_at"
    )
    assert timezone.localdate(first.changed_at) == datetime.date(2015, 1, 1)
    haaren = Municipality.objects.get(cbs_code="GM0788")
    assert (
        StatusChange.objects.filter(
            source=StatusChange.Source.MERGER, note__contains="Haaren"
        )
        .values("municipality")
        .distinct()
        .count()
        == 4
    )
    assert StatusChange.objects.filter(municipality=haaren).exists()


def _places(municipalities, valid_until=None):
    return [
        demo.PlaceInput(municipality=m, valid_from=None, valid_until=valid_until)
        for m in municipalities
    ]


def test_without_mergers_every_pair_starts_at_the_baseline_and_ends_as_its_status():
    municipalities = _municipality_inputs()
    blocks = [demo.BlockInput(id=i, code=code) for i, code in enumerate(BLOCK_CODES)]
    now = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
    history = _history(municipalities, blocks, rng=random.Random(5), now=now)
    by_pair: dict[tuple[int, int], list] = {}
    for change in history.changes:
        by_pair.setdefault((change.municipality_id, change.block_id), []).append(change)
    assert len(by_pair) == len(municipalities) * len(blocks)
    statuses = {(s.municipality_id, s.block_id): s for s in history.statuses}
    assert statuses.keys() == by_pair.keys()
    for pair, changes in by_pair.items():
        changes.sort(key=lambda c: c.changed_at)
        assert changes[0].from_level == ""
        assert changes[0].changed_at.date() == demo.HISTORY_START
        assert all(c.changed_at <= now for c in changes)
        last, status = changes[-1], statuses[pair]
        assert (status.level, status.planned_date, status.achieved_date) == (
            last.to_level,
            last.to_planned_date,
            last.to_achieved_date,
        )


def test_mergers_are_reproducible_and_independent_of_row_order():
    municipalities = _municipality_inputs()
    blocks = [demo.BlockInput(id=i, code=code) for i, code in enumerate(BLOCK_CODES)]
    former = _places(municipalities[:3], valid_until=datetime.date(2017, 12, 31))
    places = former + _places(municipalities[3:])
    mergers = [
        demo.MergerInput(
            id=1,
            date=datetime.date(2018, 1, 1),
            successor_id=municipalities[3].id,
            merged_ids=(0, 1, 2),
        )
    ]
    now = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)

    def run(order, seed_value=7):
        return demo.generate_history_with_mergers(
            order,
            blocks[:: 1 if order is places else -1],
            mergers,
            carry=carry_over,
            rng=random.Random(seed_value),
            now=now,
        )

    one = run(places)
    assert one == run(places)
    assert sorted(one.changes, key=repr) == sorted(run(places[::-1]).changes, key=repr)
    assert one != run(places, seed_value=8)
    merger_rows = [c for c in one.changes if c.source == "merger"]
    assert len(merger_rows) == len(blocks)
    assert {c.batch_id for c in merger_rows} == {"merger-1"}
    assert not [
        c for c in one.changes if c.municipality_id < 3 and c.changed_at.year > 2017
    ]
