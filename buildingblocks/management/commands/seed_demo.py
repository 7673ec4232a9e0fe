"""`manage.py seed_demo --seed 42`: demo users per role and a synthetic adoption history.

Runs after `load_reference_data`. Re-running replaces everything it made before: the
demo users' passwords, groups and memberships, every AdoptionStatus, the StatusChange
rows with source "seed", the "merger" rows of the mergers it carries and the synthetic
deadline revisions. The history itself is drawn by the pure functions in
buildingblocks/demo.py; the mergers since 2011 are carried with the project's own rule
(buildingblocks.mergers.carry_over), so former municipalities have history up to their
last day and a municipality formed by a merger none before it.
"""

from __future__ import annotations

import datetime
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from agreements.models import DeadlineRevision, Requirement, ResultAgreement
from buildingblocks import demo
from buildingblocks.levels import Level
from buildingblocks.mergers import carry_over
from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from municipalities.models import EditorMembership, Merger, Municipality
from municipalities.roles import KING_STAFF, MUNICIPAL_EDITOR, VDP, ensure_groups
from municipalities.sizeclasses import SizeClass

DEMO_PASSWORD = "demo"
BATCH_SIZE = 2000

# Editors (CIOs) and the municipalities they edit, by CBS code. A username of None
# becomes "cio-<slug>". Chosen to show every size class: Haarlemmermeer, Utrecht and
# Zwolle (xl), Zutphen (m, Gelderland), Schiermonnikoog (xs), and one CIO for two
# neighbours so that the "choose a municipality" case exists.
DEMO_EDITORS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (None, ("GM0394",)),  # Haarlemmermeer
    (None, ("GM0344",)),  # Utrecht
    (None, ("GM0193",)),  # Zwolle
    (None, ("GM0301",)),  # Zutphen
    (None, ("GM0088",)),  # Schiermonnikoog
    ("cio-regio-west", ("GM0377", "GM0397")),  # Bloemendaal and Heemstede
)

# Model permissions of king_staff in the admin: manage reference data, users and
# memberships, statuses, reports and import batches; read the history and the
# scores.
KING_STAFF_MANAGE = {
    "municipalities": None,  # every model of the app
    "agreements": None,
    "reports": None,
    "buildingblocks": ("buildingblock", "adoptionstatus", "importbatch"),
    "auth": ("user",),
}
KING_STAFF_VIEW = {
    "buildingblocks": ("statuschange",),
    "scoring": None,
    "auth": ("group",),
}


class Command(BaseCommand):
    help = (
        "Create the demo users (password 'demo') and a synthetic adoption history from "
        "2011 to today. Run load_reference_data first. Re-running replaces the demo data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed",
            type=int,
            default=42,
            help="Random seed: the same seed gives the same data (default 42).",
        )

    def handle(self, *args, seed: int, **options) -> None:
        started = time.monotonic()
        now = timezone.now()
        places = demo_places()
        blocks = [
            demo.BlockInput(id=pk, code=code)
            for pk, code in BuildingBlock.objects.filter(active=True).values_list(
                "pk", "code"
            )
        ]
        has_agreements = ResultAgreement.objects.exists()
        current = [p for p in places if p.valid_until is None]
        if not (current and blocks and has_agreements):
            raise CommandError(
                "No municipalities, building blocks or result agreements in the "
                "database: run load_reference_data first."
            )

        rng = random.Random(seed)
        mergers = demo_mergers({p.municipality.id for p in places})
        history = demo.generate_history_with_mergers(
            places, blocks, mergers, carry=carry_over, rng=rng, now=now
        )
        with transaction.atomic():
            users = seed_users(self.stdout.write)
            write_history(history, merger_ids=[m.id for m in mergers])
            revisions = seed_deadline_revisions(rng, today=timezone.localdate(now))

        in_use = sum(1 for s in history.statuses if s.level == Level.IN_USE)
        not_applicable = sum(
            1 for s in history.statuses if s.level == Level.NOT_APPLICABLE
        )
        merger_rows = sum(1 for c in history.changes if c.source == "merger")
        postponed = len({r.agreement_id for r in revisions})
        self.stdout.write(
            self.style.SUCCESS(f"Demo data written (seed {seed}).")
            + f"\n  users ({len(users)}, password '{DEMO_PASSWORD}'): "
            + ", ".join(users)
            + f"\n  statuses: {len(history.statuses)} for {len(current)} "
            f"municipalities × {len(blocks)} blocks; "
            f"{in_use / len(history.statuses):.1%} in use, "
            f"{not_applicable} not applicable"
            + f"\n  history rows: {len(history.changes) - merger_rows} (source "
            f"'seed', {demo.HISTORY_START:%Y-%m-%d} to "
            f"{timezone.localdate(now):%Y-%m-%d}, {len(places) - len(current)} "
            f"former municipalities up to their merger), plus {merger_rows} "
            f"(source 'merger') from {len(mergers)} mergers"
            + f"\n  deadline revisions: {len(revisions)} synthetic, on {postponed} "
            "agreements"
            + f"\n  took {time.monotonic() - started:.1f} s"
            + "\nScores are not updated by this command: run recompute_scores next."
        )


def demo_places() -> list[demo.PlaceInput]:
    """Current municipalities, and those that merged since the history starts.

    A former municipality's population is unknown, so its timeline follows the size
    class of the municipality it merged into.
    """
    places = []
    for row in (
        Municipality.objects.filter(
            Q(active=True) | Q(valid_until__gte=demo.HISTORY_START)
        )
        .values_list(
            "pk",
            "cbs_code",
            "slug",
            "name",
            "size_class",
            "active",
            "valid_from",
            "valid_until",
            "successor__active",
            "successor__size_class",
        )
        .order_by("cbs_code")
    ):
        pk, code, slug, name, size, active, valid_from, valid_until = row[:8]
        if not active:
            size = row[9] if row[8] else SizeClass.M
        places.append(
            demo.PlaceInput(
                municipality=demo.MunicipalityInput(
                    id=pk, cbs_code=code, slug=slug, size_class=size, name=name
                ),
                valid_from=valid_from,
                valid_until=None if active else valid_until,
            )
        )
    return places


def demo_mergers(place_ids: set[int]) -> list[demo.MergerInput]:
    """The mergers since the history starts whose successor is in the demo (2 queries)."""
    merged: dict[int, list[int]] = defaultdict(list)
    for merger_id, municipality_id in Merger.merged.through.objects.values_list(
        "merger_id", "municipality_id"
    ):
        merged[merger_id].append(municipality_id)
    return [
        demo.MergerInput(
            id=pk,
            date=date,
            successor_id=successor_id,
            merged_ids=tuple(sorted(merged[pk])),
        )
        for pk, date, successor_id in Merger.objects.filter(
            date__gt=demo.HISTORY_START
        ).values_list("pk", "date", "successor_id")
        if successor_id in place_ids
    ]


def seed_users(log: Callable[[str], object] = print) -> list[str]:
    """(Re)create the demo users with password 'demo'; returns their usernames."""
    ensure_groups()
    groups = {group.name: group for group in Group.objects.all()}
    grant_king_staff_permissions(groups[KING_STAFF])
    # One hash for all: the password is public anyway, and hashing is the slow part.
    password = make_password(DEMO_PASSWORD)

    by_code = {
        m.cbs_code: m
        for m in Municipality.objects.filter(
            cbs_code__in={code for _, codes in DEMO_EDITORS for code in codes}
        )
    }
    editors: list[tuple[str, list[Municipality]]] = []
    for username, codes in DEMO_EDITORS:
        found = [by_code[code] for code in codes if code in by_code]
        if len(found) < len(codes):
            missing = sorted(set(codes) - set(by_code))
            log(f"  skipped an editor: no municipality {', '.join(missing)}")
            continue
        editors.append((username or f"cio-{found[0].slug}", found))

    specs: list[tuple[str, str, bool, str]] = [
        ("vdp", VDP, False, "VDP-bestuur (demo)"),
        ("king", KING_STAFF, True, "KING-medewerker (demo)"),
    ] + [
        (username, MUNICIPAL_EDITOR, False, "CIO " + " en ".join(m.name for m in found))
        for username, found in editors
    ]
    User = get_user_model()
    users = {}
    for username, group, is_staff, last_name in specs:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "password": password,
                "email": f"{username}@example.nl",
                "first_name": "Demo",
                "last_name": last_name,
                "is_staff": is_staff,
                "is_superuser": False,
                "is_active": True,
            },
        )
        user.groups.set([groups[group]])
        users[username] = user

    EditorMembership.objects.filter(user__in=users.values()).delete()
    EditorMembership.objects.bulk_create(
        EditorMembership(user=users[username], municipality=municipality)
        for username, found in editors
        for municipality in found
    )
    return list(users)


def grant_king_staff_permissions(group: Group) -> None:
    """Give king_staff the admin permissions to manage reference data and users."""
    condition = Q(pk__in=[])
    for rules, actions in ((KING_STAFF_MANAGE, None), (KING_STAFF_VIEW, ("view",))):
        for app_label, models in rules.items():
            part = Q(content_type__app_label=app_label)
            if models is not None:
                part &= Q(content_type__model__in=models)
            if actions is not None:
                part &= Q(codename__startswith="view_")
            condition |= part
    group.permissions.set(Permission.objects.filter(condition))


def write_history(history: demo.History, *, merger_ids: Sequence[int] = ()) -> None:
    """Replace the statuses, the seeded history and these mergers' rows by `history`."""
    AdoptionStatus.objects.all().delete()
    delete_seed_history(merger_ids)
    # The demo's dataclasses carry exactly the model fields they fill (vars() is the
    # fast way to read them for ~200,000 rows); the seed has no user.
    StatusChange.objects.bulk_create(
        (StatusChange(**vars(change), changed_by=None) for change in history.changes),
        batch_size=BATCH_SIZE,
    )
    AdoptionStatus.objects.bulk_create(
        (
            AdoptionStatus(**vars(status), updated_by=None, version=1)
            for status in history.statuses
        ),
        batch_size=BATCH_SIZE,
    )


def delete_seed_history(merger_ids: Sequence[int] = ()) -> None:
    """Delete the StatusChange rows written by seed_demo.

    The history is append-only and the model refuses deletes; demo data is the one
    sanctioned exception, so this goes around the ORM with raw SQL, and only ever for
    source 'seed' and the 'merger' rows of the mergers the demo carries (they rest on
    the seeded history that is replaced).
    """
    table = connection.ops.quote_name(StatusChange._meta.db_table)
    source = connection.ops.quote_name("source")
    batch = connection.ops.quote_name("batch_id")
    batches = [f"merger-{pk}" for pk in merger_ids]
    with connection.cursor() as cursor:
        cursor.execute(
            # Table and column names come from the model, the value is a parameter.
            f"DELETE FROM {table} WHERE {source} = %s",
            [StatusChange.Source.SEED],
        )
        if batches:
            marks = ", ".join(["%s"] * len(batches))
            cursor.execute(
                f"DELETE FROM {table} WHERE {source} = %s AND {batch} IN ({marks})",
                [StatusChange.Source.MERGER, *batches],
            )


def seed_deadline_revisions(
    rng: random.Random, *, today: datetime.date
) -> list[DeadlineRevision]:
    """Replace the synthetic deadline revisions and set each agreement's deadline."""
    DeadlineRevision.objects.filter(synthetic=True).delete()
    # Without synthetic revisions, the deadline is the last real revision's or the original.
    real_deadline: dict[int, datetime.date] = {}
    for agreement_id, new_deadline in DeadlineRevision.objects.order_by(
        "agreement_id", "decided_on", "id"
    ).values_list("agreement_id", "new_deadline"):
        real_deadline[agreement_id] = new_deadline
    codes: dict[int, list[str]] = defaultdict(list)
    for agreement_id, code in Requirement.objects.current().values_list(
        "agreement_id", "block__code"
    ):
        codes[agreement_id].append(code)

    agreements = list(ResultAgreement.objects.all())
    for agreement in agreements:
        agreement.deadline = real_deadline.get(
            agreement.pk, agreement.original_deadline
        )
    plans = demo.plan_deadline_revisions(
        [
            demo.AgreementInput(
                id=a.pk,
                number=a.number,
                deadline=a.deadline,
                block_codes=tuple(sorted(codes[a.pk])),
            )
            for a in agreements
        ],
        rng=rng,
        today=today,
    )
    # A plan carries exactly the revision's fields, like the history's dataclasses.
    revisions = DeadlineRevision.objects.bulk_create(
        DeadlineRevision(**vars(plan), synthetic=True) for plan in plans
    )
    latest = {plan.agreement_id: plan.new_deadline for plan in plans}
    for agreement in agreements:
        agreement.deadline = latest.get(agreement.pk, agreement.deadline)
    ResultAgreement.objects.bulk_update(agreements, ["deadline"])
    return revisions
