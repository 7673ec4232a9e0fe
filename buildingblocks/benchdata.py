"""Synthetic scale data for `make bench`: many municipalities, blocks and a long history.

Everything here is clearly not the real reference data: municipalities are
"Benchgemeente 1" … (codes GM0001 … GM9999, then GM0000), in provinces
"Benchprovincie 1" … 12, blocks are `bench-01` …, agreements are titled
"Benchafspraak n". The generator is deterministic for a seed. Rows go into
PostgreSQL with COPY (psycopg 3), so 10,000 municipalities × 50 blocks and
about 1.5 million history rows load in a minute or two; other databases (the
smoke test on SQLite) get executemany, which is fine for a few municipalities.

`seed_bench` refuses a database that holds anything else: the scale data must
live in its own database (`nupportal_bench_scale`).
"""

from __future__ import annotations

import datetime
import io
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from agreements.models import (
    PROGRAMME_START,
    DeadlineRevision,
    Requirement,
    ResultAgreement,
)
from buildingblocks.levels import Category, Confidence, Level
from buildingblocks.models import (
    AdoptionStatus,
    BlockVersion,
    BuildingBlock,
    StatusChange,
)
from buildingblocks.versions import initial_versions
from municipalities.models import Municipality, Province
from municipalities.sizeclasses import size_class_for

NAME_PREFIX = "Benchgemeente"
PROVINCE_PREFIX = "Benchprovincie"
BLOCK_PREFIX = "bench-"
PROVINCES = 12
AGREEMENTS = 19
MAX_MUNICIPALITIES = 10_000
NOT_APPLICABLE_NOTE = "Synthetic benchmark data: not applicable."
_LADDER = (Level.PREPARING, Level.IMPLEMENTING, Level.IN_USE)


class BenchDataError(Exception):
    """The target database is not fit for synthetic scale data."""


@dataclass(frozen=True)
class Spec:
    municipalities: int
    blocks: int
    months: int
    seed: int = 7


def cbs_code(number: int) -> str:
    """GM0001 … GM9999, and GM0000 for the 10,000th (the code has four digits)."""
    return f"GM{number % 10_000:04d}"


def foreign_data() -> list[str]:
    """What in the database is not synthetic bench data (empty when it is all ours)."""
    found = []
    others = Municipality.objects.exclude(name__startswith=NAME_PREFIX + " ")
    if others.exists():
        found.append(f"{others.count()} municipalities not named '{NAME_PREFIX} …'")
    blocks = BuildingBlock.objects.exclude(code__startswith=BLOCK_PREFIX)
    if blocks.exists():
        found.append(f"{blocks.count()} building blocks not coded '{BLOCK_PREFIX}…'")
    provinces = Province.objects.exclude(name__startswith=PROVINCE_PREFIX + " ")
    if provinces.exists():
        found.append(f"{provinces.count()} real provinces")
    return found


# --- generation (pure, deterministic) ---------------------------------------------


def _population(rng: random.Random) -> int:
    # Log-uniform from 1,000 to 900,000: every size class well filled.
    return int(10 ** rng.uniform(3.0, 5.95))


def municipality_rows(spec: Spec) -> Iterator[tuple]:
    """(id, cbs_code, name, slug, province_id, population, size_class)."""
    rng = random.Random(spec.seed)
    for number in range(1, spec.municipalities + 1):
        population = _population(rng)
        yield (
            number,
            cbs_code(number),
            f"{NAME_PREFIX} {number}",
            f"benchgemeente-{number}",
            (number - 1) % PROVINCES + 1,
            population,
            size_class_for(population).value,
        )


@dataclass
class PairHistory:
    """The changes of one (municipality, block) pair and the state they end in."""

    changes: list[
        tuple
    ]  # (changed_at, from, to, from_planned, to_planned, from_ach, to_ach)
    level: str
    planned: datetime.date | None
    achieved: datetime.date | None
    updated_at: datetime.datetime | None


def pair_history(
    rng: random.Random, *, maturity: float, start: datetime.datetime, span_days: int
) -> PairHistory:
    """A plausible path up the ladder: about three changes on average."""
    if rng.random() < 0.02:
        at = start + datetime.timedelta(days=rng.uniform(0, span_days))
        return PairHistory(
            [(at, "", Level.NOT_APPLICABLE, None, None, None, None)],
            Level.NOT_APPLICABLE,
            None,
            None,
            at,
        )
    # How far this pair gets: mature municipalities climb further.
    target = min(3, int(rng.random() * 3.2 * maturity + rng.random() * 2.2))
    if target == 0:
        return PairHistory([], Level.NOT_STARTED, None, None, None)
    moments = sorted(rng.uniform(0, span_days) for _ in range(target))
    end = start + datetime.timedelta(days=span_days)
    changes = []
    level, planned, achieved = "", None, None
    for step, offset in enumerate(moments):
        at = start + datetime.timedelta(days=offset)
        new_level = _LADDER[step]
        new_planned = planned
        new_achieved = None
        if new_level == Level.IN_USE:
            new_achieved = at.date()
        else:
            new_planned = (at + datetime.timedelta(days=rng.randint(60, 900))).date()
        changes.append(
            (at, level, new_level, planned, new_planned, achieved, new_achieved)
        )
        # Now and then the planned date slips before the next step.
        slip_at = at
        while new_level != Level.IN_USE and rng.random() < 0.5:
            slip_at += datetime.timedelta(days=rng.uniform(1, 90))
            # Slips happen before the next step, so time order is ladder order.
            if slip_at >= (
                start + datetime.timedelta(days=moments[step + 1])
                if step + 1 < len(moments)
                else end
            ):
                break
            slipped = new_planned + datetime.timedelta(days=rng.randint(30, 365))
            changes.append(
                (slip_at, new_level, new_level, new_planned, slipped, None, None)
            )
            new_planned = slipped
        level, planned, achieved = new_level, new_planned, new_achieved
    return PairHistory(changes, level, planned, achieved, changes[-1][0])


# --- loading -------------------------------------------------------------------------


def _text(value) -> str:
    """One COPY text-format field."""
    if value is None:
        return r"\N"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _copy(model, columns: Sequence[str], rows: Iterator[tuple]) -> int:
    """Stream rows into a table: COPY on PostgreSQL, executemany elsewhere."""
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                buffer = io.StringIO()
                for row in rows:
                    buffer.write("\t".join(_text(v) for v in row))
                    buffer.write("\n")
                    count += 1
                    if buffer.tell() > 1 << 20:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            batch: list[tuple] = []
            for row in rows:
                batch.append(row)
                count += 1
                if len(batch) >= 5000:
                    cursor.executemany(
                        f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})",
                        batch,
                    )
                    batch = []
            if batch:
                cursor.executemany(
                    f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})",
                    batch,
                )
    return count


def _reset_sequence(model) -> None:
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 1))",
            [table],
        )


def _clear() -> None:
    """Remove earlier bench data (only ever called when foreign_data() is empty)."""
    tables = [
        "scoring_snapshot",
        "scoring_aggregate",
        "scoring_agreementcompliance",
        "scoring_municipalityscore",
        StatusChange._meta.db_table,
        AdoptionStatus._meta.db_table,
        DeadlineRevision._meta.db_table,
        Requirement._meta.db_table,
        ResultAgreement._meta.db_table,
        BlockVersion._meta.db_table,
        BuildingBlock._meta.db_table,
        Municipality._meta.db_table,
        Province._meta.db_table,
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(connection.ops.quote_name(t) for t in tables)
            cursor.execute(f"TRUNCATE {names} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


def seed(
    spec: Spec,
    *,
    replace: bool = False,
    log: Callable[[str], object] = print,
    today: datetime.date | None = None,
) -> dict[str, int]:
    """Create the synthetic data set; return the row counts written."""
    if spec.municipalities > MAX_MUNICIPALITIES:
        raise BenchDataError(
            f"At most {MAX_MUNICIPALITIES} municipalities (CBS codes)."
        )
    foreign = foreign_data()
    if foreign:
        raise BenchDataError(
            "This database holds data that is not synthetic bench data ("
            + "; ".join(foreign)
            + "). Run seed_bench on its own database, e.g. nupportal_bench_scale."
        )
    if Municipality.objects.exists() and not replace:
        raise BenchDataError(
            "Bench data already present; pass --replace to rebuild it."
        )
    rng = random.Random(spec.seed)
    today = today or timezone.localdate()
    first_month = today.replace(day=1)
    for _ in range(spec.months):
        first_month = (first_month - datetime.timedelta(days=1)).replace(day=1)
    start = timezone.make_aware(
        datetime.datetime.combine(first_month, datetime.time(9)), datetime.UTC
    )
    span_days = max((today - first_month).days - 1, 1)
    counts: dict[str, int] = {}

    with transaction.atomic():
        _clear()
        Province.objects.bulk_create(
            Province(id=i, name=f"{PROVINCE_PREFIX} {i}", slug=f"benchprovincie-{i}")
            for i in range(1, PROVINCES + 1)
        )
        _reset_sequence(Province)
        categories = list(Category.values)
        blocks = BuildingBlock.objects.bulk_create(
            BuildingBlock(
                id=i,
                code=f"{BLOCK_PREFIX}{i:02d}",
                name=f"Benchbouwsteen {i}",
                name_en=f"Bench block {i}",
                category=categories[i % len(categories)],
                weight=Decimal(1 + i % 3),
                order=i,
                confidence=Confidence.LOW,
            )
            for i in range(1, spec.blocks + 1)
        )
        _reset_sequence(BuildingBlock)
        # The rules apply over the whole bench history.
        rules_from = min(first_month, PROGRAMME_START)
        initial_versions(blocks, rules_from)
        block_ids = [b.id for b in blocks]
        agreements = []
        for number in range(1, AGREEMENTS + 1):
            # Deadlines from 2012 to 2032: some passed, some ahead.
            deadline = datetime.date(2012 + number, 1 + number % 12, 1)
            agreements.append(
                ResultAgreement(
                    id=number,
                    number=number,
                    title=f"Benchafspraak {number}",
                    title_en=f"Bench agreement {number}",
                    original_deadline=deadline,
                    deadline=deadline,
                    deadline_is_reference=False,
                    confidence=Confidence.LOW,
                )
            )
        ResultAgreement.objects.bulk_create(agreements)
        _reset_sequence(ResultAgreement)
        requirements = []
        for agreement in agreements:
            chosen = rng.sample(block_ids, k=min(len(block_ids), rng.randint(1, 4)))
            for block_id in chosen:
                requirements.append(
                    Requirement(
                        agreement_id=agreement.id,
                        block_id=block_id,
                        minimum_level=rng.choice(
                            [Level.IMPLEMENTING, Level.IN_USE, Level.IN_USE]
                        ),
                        valid_from=rules_from,
                    )
                )
        Requirement.objects.bulk_create(requirements)
        counts["blocks"] = len(block_ids)
        counts["agreements"] = len(agreements)
        log(
            f"reference: {PROVINCES} provinces, {len(block_ids)} blocks, {AGREEMENTS} agreements"
        )

        municipalities = list(municipality_rows(spec))
        counts["municipalities"] = _copy(
            Municipality,
            [
                "id",
                "cbs_code",
                "name",
                "slug",
                "province_id",
                "population",
                "size_class",
                "active",
                "map_path",
                "source",
            ],
            ((*row, True, "", "synthetic benchmark data") for row in municipalities),
        )
        _reset_sequence(Municipality)
        log(f"municipalities: {counts['municipalities']}")

        statuses: list[tuple] = []

        def history() -> Iterator[tuple]:
            for (
                m_id,
                _code,
                _name,
                _slug,
                _province,
                population,
                _size,
            ) in municipalities:
                maturity = min(1.0, 0.35 + rng.random() * 0.5 + population / 2_000_000)
                for block_id in block_ids:
                    pair = pair_history(
                        rng, maturity=maturity, start=start, span_days=span_days
                    )
                    statuses.append(
                        (
                            m_id,
                            block_id,
                            pair.level,
                            pair.planned,
                            pair.achieved,
                            NOT_APPLICABLE_NOTE
                            if pair.level == Level.NOT_APPLICABLE
                            else "",
                            "",
                            pair.updated_at,
                            1 + len(pair.changes),
                        )
                    )
                    for at, old, new, old_p, new_p, old_a, new_a in pair.changes:
                        yield (
                            m_id,
                            block_id,
                            old,
                            new,
                            old_p,
                            new_p,
                            old_a,
                            new_a,
                            at,
                            StatusChange.Source.SEED.value,
                            NOT_APPLICABLE_NOTE if new == Level.NOT_APPLICABLE else "",
                            "bench",
                        )

        counts["status_changes"] = _copy(
            StatusChange,
            [
                "municipality_id",
                "block_id",
                "from_level",
                "to_level",
                "from_planned_date",
                "to_planned_date",
                "from_achieved_date",
                "to_achieved_date",
                "changed_at",
                "source",
                "note",
                "batch_id",
            ],
            history(),
        )
        log(f"status changes: {counts['status_changes']}")
        counts["statuses"] = _copy(
            AdoptionStatus,
            [
                "municipality_id",
                "block_id",
                "level",
                "planned_date",
                "achieved_date",
                "note",
                "evidence_url",
                "updated_at",
                "version",
            ],
            iter(statuses),
        )
        log(f"statuses: {counts['statuses']}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return counts
