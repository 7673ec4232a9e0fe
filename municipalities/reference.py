"""Load the reference data in data/reference/ into the database (`load_reference_data`).

The files are the source of truth for what they hold: a load creates missing rows and
updates changed ones in place, matched on their natural keys (CBS code, block code,
agreement number). It never deletes a municipality, block or agreement, and never
touches adoption statuses, their history or scores. Each model is synchronised with a
fixed number of queries (read all, bulk_create, bulk_update of the changed rows only),
all in one transaction, so a second run changes nothing.
"""

from __future__ import annotations

import csv
import datetime
import sys
import zoneinfo
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction

from agreements.models import (
    PROGRAMME_START,
    DeadlineRevision,
    Requirement,
    ResultAgreement,
)
from buildingblocks.models import BlockVersion, BuildingBlock, sync_current
from municipalities.models import Merger, Municipality, Province
from municipalities.sizeclasses import size_class_for

# Read at call time (not bound as a default argument) so tests can point it elsewhere.
DATA_DIR: Path = settings.BASE_DIR / "data" / "reference"

PROVINCES_FILE = "provinces.csv"
MUNICIPALITIES_FILE = "municipalities.csv"
BOUNDARIES_FILE = "boundaries.csv"
MERGERS_FILE = "mergers.csv"
BLOCKS_FILE = "building_blocks.csv"
AGREEMENTS_FILE = "result_agreements.csv"
REQUIREMENTS_FILE = "requirements.csv"

# Outlines are long single fields; the csv module's default limit is 128 KiB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")


@dataclass
class SyncCounts:
    """What one load did to the rows of one model."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted

    def __str__(self) -> str:
        text = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        return f"{text}, {self.deleted} deleted" if self.deleted else text


class ReferenceDataError(Exception):
    """A reference file is missing or inconsistent; nothing was loaded."""


def read_rows(name: str, data_dir: Path | None = None) -> list[dict[str, str]]:
    """The rows of one reference file, as dictionaries of stripped strings."""
    path = (data_dir or DATA_DIR) / name
    if not path.is_file():
        raise ReferenceDataError(f"Missing reference file: {path}")
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            {key: (value or "").strip() for key, value in row.items()}
            for row in csv.DictReader(handle)
        ]


def _sync(
    model: type[models.Model],
    wanted: dict[Hashable, dict[str, Any]],
    existing: dict[Hashable, models.Model],
    *,
    create_only: Iterable[str] = (),
) -> tuple[set[Hashable], set[Hashable]]:
    """Make the rows `existing` (by key) carry the values `wanted`; bulk operations only.

    Returns the keys of the rows created and of those updated. Fields named in
    `create_only` are set on new rows but left alone on existing ones.
    """
    create_only = set(create_only)
    created: set[Hashable] = set()
    to_create: list[models.Model] = []
    to_update: dict[Hashable, models.Model] = {}
    changed_fields: set[str] = set()
    for key, values in wanted.items():
        row = existing.get(key)
        if row is None:
            to_create.append(model(**values))
            created.add(key)
            continue
        changed = [
            field
            for field, value in values.items()
            if field not in create_only and getattr(row, field) != value
        ]
        for field in changed:
            setattr(row, field, values[field])
        if changed:
            to_update[key] = row
            changed_fields.update(changed)
    if to_create:
        model.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        model.objects.bulk_update(
            list(to_update.values()), sorted(changed_fields), batch_size=500
        )
    return created, set(to_update)


def _counts(total: int, created: set, updated: set, deleted: int = 0) -> SyncCounts:
    updated = updated - created
    return SyncCounts(
        created=len(created),
        updated=len(updated),
        unchanged=total - len(created) - len(updated),
        deleted=deleted,
    )


def _parse_date(text: str) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


# -- municipalities -------------------------------------------------------------------


def _load_provinces(data_dir: Path | None) -> tuple[SyncCounts, dict[str, Province]]:
    wanted = {
        row["name"]: {"name": row["name"], "slug": row["slug"]}
        for row in read_rows(PROVINCES_FILE, data_dir)
    }
    existing = {p.name: p for p in Province.objects.all()}
    created, updated = _sync(Province, wanted, existing)
    by_name = {p.name: p for p in Province.objects.all()}
    return _counts(len(wanted), created, updated), by_name


def _successor_codes(mergers: list[dict[str, str]]) -> dict[str, tuple[str, str]]:
    """Former code → (successor code, date); for a split, the largest receiving share."""
    best: dict[str, tuple[int, str, str]] = {}
    for row in mergers:
        share = int(row["share"]) if row["share"] else 100
        old = row["old_cbs_code"]
        if old not in best or share > best[old][0]:
            best[old] = (share, row["new_cbs_code"], row["date"])
    return {old: (new, date) for old, (_, new, date) in best.items()}


# CBS numbers new municipalities sequentially; GM1930 (Nissewaard, 1-1-2015) is the first
# code issued after the mergers file starts. A successor numbered from here on was formed
# by its first merger; a lower-numbered successor existed before and absorbed others.
FIRST_NEW_CODE_NUMBER = 1930


def _formed_on(mergers: list[dict[str, str]]) -> dict[str, datetime.date]:
    """Successor code → the date it was formed, for municipalities created by a merger."""
    formed: dict[str, datetime.date] = {}
    for row in mergers:
        code = row["new_cbs_code"]
        if int(code[2:]) >= FIRST_NEW_CODE_NUMBER:
            date = datetime.date.fromisoformat(row["date"])
            formed[code] = min(date, formed.get(code, date))
    return formed


def _municipality_values(
    data_dir: Path | None,
    provinces: dict[str, Province],
    mergers: list[dict[str, str]],
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Wanted field values per CBS code (current and former), and each former's successor."""
    outlines = {
        row["cbs_code"]: row["path"] for row in read_rows(BOUNDARIES_FILE, data_dir)
    }
    formed = _formed_on(mergers)
    wanted: dict[str, dict[str, Any]] = {}
    for row in read_rows(MUNICIPALITIES_FILE, data_dir):
        code = row["cbs_code"]
        if row["province"] not in provinces:
            raise ReferenceDataError(f"{code}: unknown province {row['province']!r}")
        population = int(row["population"])
        wanted[code] = {
            "cbs_code": code,
            "name": row["name"],
            "slug": row["slug"],
            "province_id": provinces[row["province"]].pk,
            "population": population,
            "population_date": _parse_date(row["population_date"]),
            # Bulk operations skip save(), which derives the size class.
            "size_class": size_class_for(population),
            "active": True,
            "valid_from": formed.get(code),
            "valid_until": None,
            "map_path": outlines.get(code, ""),
            "source": row["source"],
        }

    successors = _successor_codes(mergers)
    former = {r["old_cbs_code"]: r for r in mergers}
    sources = {(r["old_cbs_code"], r["new_cbs_code"]): r["source"] for r in mergers}

    def current_end_of_chain(code: str) -> str:
        # GM0265 → GM0241 → GM1945: follow successors to a current municipality.
        seen: set[str] = set()
        while not (code in wanted and wanted[code]["active"]):
            if code in seen or code not in successors:
                raise ReferenceDataError(f"The merger chain from {code} ends nowhere.")
            seen.add(code)
            code = successors[code][0]
        return code

    for old in successors:
        if old in wanted:
            raise ReferenceDataError(
                f"{old} is both a current and a former municipality."
            )
    for old, (new, date) in successors.items():
        row = former[old]
        wanted[old] = {
            "cbs_code": old,
            "name": row["old_name"],
            "slug": row["old_slug"],
            # Former municipalities are compared within the province they went into.
            "province_id": wanted[current_end_of_chain(old)]["province_id"],
            "population": 0,
            "population_date": None,
            "size_class": size_class_for(0),
            "active": False,
            "valid_from": formed.get(old),
            "valid_until": datetime.date.fromisoformat(date)
            - datetime.timedelta(days=1),
            "map_path": "",
            "source": sources[(old, new)],
        }
    return wanted, {old: new for old, (new, _) in successors.items()}


def _load_municipalities(
    data_dir: Path | None,
    provinces: dict[str, Province],
    mergers: list[dict[str, str]],
) -> tuple[SyncCounts, dict[str, Municipality]]:
    wanted, successor_of = _municipality_values(data_dir, provinces, mergers)
    existing = {m.cbs_code: m for m in Municipality.objects.all()}
    # First every code exists, then successors are set: in a chain the successor may
    # itself be a former municipality that this run creates.
    created, _ = _sync(
        Municipality,
        {code: values for code, values in wanted.items() if code not in existing},
        {},
    )
    by_code = (
        {m.cbs_code: m for m in Municipality.objects.all()} if created else existing
    )
    for code, values in wanted.items():
        successor = successor_of.get(code)
        values["successor_id"] = by_code[successor].pk if successor else None
    _, updated = _sync(Municipality, wanted, by_code)
    return _counts(len(wanted), created, updated), by_code


def _load_mergers(
    mergers: list[dict[str, str]], by_code: dict[str, Municipality]
) -> tuple[SyncCounts, SyncCounts]:
    """Merger rows, one per (date, successor), with their merged municipalities."""
    wanted: dict[tuple[datetime.date, int], dict[str, Any]] = {}
    members: dict[tuple[datetime.date, int], set[int]] = defaultdict(set)
    for row in mergers:
        date = datetime.date.fromisoformat(row["date"])
        key = (date, by_code[row["new_cbs_code"]].pk)
        wanted.setdefault(
            key,
            {
                "date": date,
                "successor_id": key[1],
                # Historical mergers: their statuses never existed here, nothing to apply.
                "applied_at": datetime.datetime.combine(
                    date, datetime.time(), tzinfo=_AMSTERDAM
                ),
                "source": row["source"],
            },
        )
        members[key].add(by_code[row["old_cbs_code"]].pk)

    existing = {(m.date, m.successor_id): m for m in Merger.objects.all()}
    created, updated = _sync(Merger, wanted, existing)
    by_key = (
        {(m.date, m.successor_id): m.pk for m in Merger.objects.all()}
        if created
        else {key: m.pk for key, m in existing.items()}
    )

    # The merged sets, through the M2M table, in bulk.
    through = Merger.merged.through
    merger_ids = {by_key[key] for key in wanted}
    have = set(
        through.objects.filter(merger_id__in=merger_ids).values_list(
            "merger_id", "municipality_id"
        )
    )
    want = {(by_key[key], pk) for key, pks in members.items() for pk in pks}
    missing = want - have
    extra = have - want
    if missing:
        through.objects.bulk_create(
            [through(merger_id=m, municipality_id=pk) for m, pk in sorted(missing)]
        )
    for merger_id in {m for m, _ in extra}:
        # Rare (a corrected data file): one delete per affected merger.
        through.objects.filter(
            merger_id=merger_id,
            municipality_id__in=[pk for m, pk in extra if m == merger_id],
        ).delete()
    pk_to_key = {pk: key for key, pk in by_key.items()}
    updated |= {pk_to_key[m] for m, _ in missing | extra}
    memberships = _counts(len(want), missing, set(), len(extra))
    return _counts(len(wanted), created, updated), memberships


# -- building blocks and agreements ---------------------------------------------------


def _load_blocks(
    data_dir: Path | None,
) -> tuple[SyncCounts, SyncCounts, dict[str, BuildingBlock]]:
    wanted: dict[str, dict[str, Any]] = {}
    weights: dict[str, Decimal] = {}
    for row in read_rows(BLOCKS_FILE, data_dir):
        weights[row["code"]] = Decimal(row["weight"])
        wanted[row["code"]] = {
            "code": row["code"],
            "name": row["name"],
            "name_en": row["name_en"],
            "short_name": row.get("short_name", ""),
            "category": row["category"],
            "owner": row["owner"],
            "description": row["description_nl"],
            "description_en": row["description_en"],
            "order": int(row["order"]),
            # The block's current weight follows its versions (below).
            "weight": weights[row["code"]],
            "source": row["source"],
            "confidence": row["confidence"],
        }
    existing = {b.code: b for b in BuildingBlock.objects.all()}
    created, updated = _sync(BuildingBlock, wanted, existing, create_only=["weight"])
    by_code = {b.code: b for b in BuildingBlock.objects.all()} if created else existing
    versions = _load_block_versions(weights, by_code)
    if versions.changed:
        # The loaded weights reach the blocks' current values only where the
        # first version is still in force.
        sync_current(by_code[code].pk for code in wanted)
    return _counts(len(wanted), created, updated), versions, by_code


def _load_block_versions(
    weights: dict[str, Decimal], blocks: dict[str, BuildingBlock]
) -> SyncCounts:
    """The first version of each block: the file's weight from the programme start.

    Later versions (admin changes) are left alone, and so is the active flag,
    which is not in the files: a new block starts active.
    """
    first = {
        v.block_id: v
        for v in BlockVersion.objects.filter(
            block__in=[blocks[code] for code in weights], valid_from=PROGRAMME_START
        )
    }
    starts: dict[int, datetime.date] = {}
    for block_id, start in BlockVersion.objects.filter(
        block__in=[blocks[code] for code in weights]
    ).values_list("block_id", "valid_from"):
        starts[block_id] = min(start, starts.get(block_id, start))
    to_create, to_update = [], []
    for code, weight in weights.items():
        block = blocks[code]
        version = first.get(block.pk)
        if version is None:
            if block.pk in starts and starts[block.pk] < PROGRAMME_START:
                continue
            to_create.append(
                BlockVersion(
                    block=block,
                    weight=weight,
                    active=block.active,
                    valid_from=PROGRAMME_START,
                    # Up to an admin's version, where one exists.
                    valid_until=starts.get(block.pk),
                )
            )
        elif version.weight != weight:
            version.weight = weight
            to_update.append(version)
    if to_create:
        BlockVersion.objects.bulk_create(to_create)
    if to_update:
        BlockVersion.objects.bulk_update(to_update, ["weight"])
    return SyncCounts(
        created=len(to_create),
        updated=len(to_update),
        unchanged=len(weights) - len(to_create) - len(to_update),
    )


def _load_agreements(
    data_dir: Path | None, blocks: dict[str, BuildingBlock]
) -> tuple[SyncCounts, SyncCounts]:
    revised = set(
        DeadlineRevision.objects.values_list("agreement__number", flat=True).distinct()
    )
    wanted: dict[int, dict[str, Any]] = {}
    for row in read_rows(AGREEMENTS_FILE, data_dir):
        number = int(row["number"])
        deadline = datetime.date.fromisoformat(row["deadline"])
        wanted[number] = {
            "number": number,
            "title": row["title"],
            "title_en": row["title_en"],
            "description": row["description"],
            "description_en": row["description_en"],
            "original_deadline": deadline,
            "deadline_is_reference": row["deadline_is_reference"] == "1",
            "source": row["source"],
            "confidence": row["confidence"],
            "source_note": row["source_note"],
            "deadline": deadline,
        }
    existing = {a.number: a for a in ResultAgreement.objects.all()}
    # Once a deadline has been revised the current deadline is the revisions' business;
    # without revisions it follows the file.
    created, updated = _sync(
        ResultAgreement,
        {n: v for n, v in wanted.items() if n not in revised},
        existing,
    )
    frozen = {
        n: {k: v for k, v in values.items() if k != "deadline"}
        for n, values in wanted.items()
        if n in revised
    }
    more_created, more_updated = _sync(ResultAgreement, frozen, existing)
    created |= more_created
    updated |= more_updated
    agreements = (
        {a.number: a for a in ResultAgreement.objects.all()} if created else existing
    )

    # The file holds the first version of each requirement, valid from the
    # programme start; later versions are the admin's and stay as they are.
    wanted_requirements: dict[tuple[int, int], dict[str, Any]] = {}
    for row in read_rows(REQUIREMENTS_FILE, data_dir):
        number, code = int(row["agreement_number"]), row["block_code"]
        if number not in agreements or code not in blocks:
            raise ReferenceDataError(
                f"Requirement {number}/{code}: unknown agreement or block"
            )
        key = (agreements[number].pk, blocks[code].pk)
        wanted_requirements[key] = {
            "agreement_id": key[0],
            "block_id": key[1],
            "minimum_level": row["minimum_level"],
            "min_population": int(row["min_population"])
            if row.get("min_population")
            else None,
            "valid_from": PROGRAMME_START,
        }
    agreement_ids = [agreements[n].pk for n in wanted]
    later: dict[tuple[int, int], datetime.date] = {}
    existing_requirements = {}
    for r in Requirement.objects.filter(agreement_id__in=agreement_ids):
        key = (r.agreement_id, r.block_id)
        if r.valid_from == PROGRAMME_START:
            existing_requirements[key] = r
        else:
            later[key] = min(r.valid_from, later.get(key, r.valid_from))
    for key, values in wanted_requirements.items():
        if key not in existing_requirements and key in later:
            # A new first version ends where an admin's version begins.
            values["valid_until"] = later[key]
    stale = [
        r.pk
        for key, r in existing_requirements.items()
        if key not in wanted_requirements
    ]
    if stale:
        Requirement.objects.filter(pk__in=stale).delete()
    req_created, req_updated = _sync(
        Requirement,
        wanted_requirements,
        existing_requirements,
        create_only=["valid_until"],
    )
    return (
        _counts(len(wanted), created, updated),
        _counts(len(wanted_requirements), req_created, req_updated, len(stale)),
    )


# -- the whole load -------------------------------------------------------------------


@transaction.atomic
def load_reference_data(data_dir: Path | None = None) -> dict[str, SyncCounts]:
    """Load every reference file; returns what happened per model, in load order."""
    data_dir = data_dir or DATA_DIR
    results: dict[str, SyncCounts] = {}
    results["provinces"], provinces = _load_provinces(data_dir)
    mergers = read_rows(MERGERS_FILE, data_dir)
    results["municipalities"], by_code = _load_municipalities(
        data_dir, provinces, mergers
    )
    results["mergers"], results["merged municipalities"] = _load_mergers(
        mergers, by_code
    )
    results["building blocks"], results["block versions"], blocks = _load_blocks(
        data_dir
    )
    results["result agreements"], results["requirements"] = _load_agreements(
        data_dir, blocks
    )
    return results
