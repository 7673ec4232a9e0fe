"""Build the project's own reference files (data/reference/) from the shared research data.

For maintainers only: run it when ../shared/data changes, review the diff, commit the
files. The portal itself never reads the shared folder; `load_reference_data` reads
only data/reference/.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify

from agreements.models import PROGRAMME_END
from buildingblocks.levels import Category, Confidence, Level
from municipalities import reference
from municipalities.geography import geometry_path

DEFAULT_SOURCE = "../shared/data"
# The project's own English texts where the research has Dutch only.
ENGLISH_DIR = settings.BASE_DIR / "data" / "english"
# Municipality.source, Merger.source: longer texts would not fit the columns.
MAX_SOURCE_LENGTH = 300
_SPLIT_SHARE = re.compile(r"split:\s*~?(\d+)\s*%")


def _read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file; the csv module copes with quoted commas and CRLF endings."""
    if not path.is_file():
        raise CommandError(f"Missing source file: {path}")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for number, row in enumerate(rows, start=2):
        if None in row or any(value is None for value in row.values()):
            raise CommandError(f"{path.name}, line {number}: wrong number of columns")
    return [{key: value.strip() for key, value in row.items()} for row in rows]


# The matrix column headers (BuildingBlock.short_name). Ours, not the research's:
# kept here so that a rebuild from new research keeps them. Acronyms where the
# name has one, else a recognisable cut of at most 12 characters.
SHORT_NAMES = {
    "digid": "DigiD",
    "digid_machtigen": "Machtigen",
    "eherkenning": "eHerk.",
    "mijnoverheid_berichtenbox": "Berichtenbox",
    "mijnoverheid_lopende_zaken": "Lop. zaken",
    "samenwerkende_catalogi": "SC",
    "antwoord": "Antwoord",
    "antwoord_voor_bedrijven": "Antw. bedr.",
    "omgevingsloket": "OLO",
    "ondernemingsdossier": "Ond.dossier",
    "bekendmakingen": "Bekendm.",
    "webrichtlijnen": "Webrichtl.",
    "open_standaarden": "Open std.",
    "brp": "BRP",
    "bag": "BAG",
    "bgt": "BGT",
    "woz": "WOZ",
    "nhr": "NHR",
    "brk": "BRK",
    "brv": "BRV",
    "bri": "BRI",
    "digikoppeling": "Digikopp.",
    "digilevering": "Digilev.",
    "digimelding": "Digimeld.",
    "diginetwerk": "Diginetw.",
    "pkioverheid": "PKIo",
    "bsn": "BSN",
}


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _check_source(text: str, where: str) -> str:
    if len(text) > MAX_SOURCE_LENGTH:
        raise CommandError(
            f"{where}: source longer than {MAX_SOURCE_LENGTH} characters"
        )
    return text


def _category(raw: str, where: str) -> str:
    """The category as one of the five codes; tolerant of case, spaces and quotes."""
    value = raw.strip().strip("\"'").strip().lower()
    if value not in Category.values:
        raise CommandError(
            f"{where}: category {raw!r} is not one of {', '.join(Category.values)}"
        )
    return value


def _confidence(raw: str, where: str) -> str:
    value = raw.strip().lower()
    if value not in Confidence.values:
        raise CommandError(f"{where}: confidence {raw!r} is not high/medium/low")
    return value


class Command(BaseCommand):
    help = "Build data/reference/ from the shared research data (maintainers only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            default=DEFAULT_SOURCE,
            help="Folder with municipalities/ and nup/ (default: ../shared/data, "
            "relative to the repository).",
        )
        parser.add_argument(
            "--output",
            default=None,
            help="Folder to write to (default: data/reference in the repository).",
        )

    def handle(self, *args, source: str, output: str | None, **options) -> None:
        source_dir = Path(source)
        if not source_dir.is_absolute():
            source_dir = settings.BASE_DIR / source_dir
        output_dir = Path(output) if output else reference.DATA_DIR
        output_dir.mkdir(parents=True, exist_ok=True)

        municipalities = self._municipalities(source_dir / "municipalities", output_dir)
        self._boundaries(source_dir / "municipalities", output_dir, municipalities)
        self._mergers(source_dir / "municipalities", output_dir, municipalities)
        blocks = self._blocks(source_dir / "nup", output_dir)
        self._agreements(source_dir / "nup", output_dir, blocks)
        self.stdout.write(
            self.style.SUCCESS(f"Wrote the reference files to {output_dir}")
        )

    # -- municipalities and provinces -------------------------------------------------

    def _municipalities(self, folder: Path, output: Path) -> dict[str, dict]:
        rows = _read_csv(folder / "municipalities.csv")
        result: dict[str, dict] = {}
        for number, row in enumerate(rows, start=2):
            where = f"municipalities.csv, line {number}"
            code = row["cbs_code"]
            if not re.fullmatch(r"GM\d{4}", code):
                raise CommandError(f"{where}: bad CBS code {code!r}")
            if code in result:
                raise CommandError(f"{where}: duplicate CBS code {code}")
            if not row["population"].isdigit():
                raise CommandError(f"{where}: population {row['population']!r}")
            result[code] = {
                "cbs_code": code,
                "name": row["name"],
                "slug": slugify(row["name"]),
                "province": row["province"],
                "population": int(row["population"]),
                "population_date": row["population_date"],
                "source": _check_source(row["source"], where),
            }
        _make_slugs_unique(list(result.values()), "slug", "cbs_code")
        ordered = sorted(result.values(), key=lambda r: r["cbs_code"])
        _write_csv(output / reference.MUNICIPALITIES_FILE, list(ordered[0]), ordered)

        provinces = sorted({r["province"] for r in ordered})
        _write_csv(
            output / reference.PROVINCES_FILE,
            ["name", "slug"],
            [{"name": name, "slug": slugify(name)} for name in provinces],
        )
        self.stdout.write(
            f"{len(ordered)} municipalities in {len(provinces)} provinces"
        )
        return result

    def _boundaries(self, folder: Path, output: Path, municipalities: dict) -> None:
        path = folder / "boundaries.geojson"
        if not path.is_file():
            raise CommandError(f"Missing source file: {path}")
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        paths: dict[str, str] = {}
        for feature in features:
            code = feature["properties"]["cbs_code"]
            if code not in municipalities:
                raise CommandError(f"boundaries.geojson: unknown municipality {code}")
            d = geometry_path(feature["geometry"])
            if not d:
                raise CommandError(
                    f"boundaries.geojson: {code} has no drawable outline"
                )
            paths[code] = d
        missing = sorted(set(municipalities) - set(paths))
        if missing:
            raise CommandError(
                f"boundaries.geojson: no outline for {', '.join(missing)}"
            )
        _write_csv(
            output / reference.BOUNDARIES_FILE,
            ["cbs_code", "path"],
            [{"cbs_code": code, "path": paths[code]} for code in sorted(paths)],
        )
        self.stdout.write(f"{len(paths)} outlines")

    def _mergers(self, folder: Path, output: Path, municipalities: dict) -> None:
        rows = _read_csv(folder / "mergers.csv")
        current_slugs = {m["slug"] for m in municipalities.values()}
        out: list[dict] = []
        old_slugs: dict[str, str] = {}
        for number, row in enumerate(rows, start=2):
            where = f"mergers.csv, line {number}"
            for key in ("old_cbs_code", "new_cbs_code"):
                if not re.fullmatch(r"GM\d{4}", row[key]):
                    raise CommandError(f"{where}: bad CBS code {row[key]!r}")
            old = row["old_cbs_code"]
            if old in municipalities:
                raise CommandError(f"{where}: {old} is dissolved but still current")
            if old not in old_slugs:
                slug = slugify(row["old_name"])
                # A former municipality must not take the slug of a current one.
                if slug in current_slugs or slug in old_slugs.values():
                    slug = f"{slug}-{old.lower()}"
                old_slugs[old] = slug
            match = _SPLIT_SHARE.search(row["source"])
            out.append(
                {
                    "date": row["date"],
                    "old_cbs_code": old,
                    "old_name": row["old_name"],
                    "old_slug": old_slugs[old],
                    "new_cbs_code": row["new_cbs_code"],
                    "new_name": row["new_name"],
                    # Share (%) of a split municipality going to this successor.
                    "share": match.group(1) if match else "",
                    "source": _check_source(row["source"], where),
                }
            )
        dissolved = set(old_slugs)
        for row in out:
            if row["new_cbs_code"] not in set(municipalities) | dissolved:
                raise CommandError(
                    f"mergers.csv: successor {row['new_cbs_code']} is neither current "
                    "nor dissolved later"
                )
        out.sort(key=lambda r: (r["date"], r["new_cbs_code"], r["old_cbs_code"]))
        _write_csv(output / reference.MERGERS_FILE, list(out[0]), out)
        self.stdout.write(
            f"{len(out)} merger rows, {len(dissolved)} former municipalities"
        )

    # -- building blocks and agreements -----------------------------------------------

    def _blocks(self, folder: Path, output: Path) -> set[str]:
        rows = _read_csv(folder / "building_blocks.csv")
        unknown = sorted(set(SHORT_NAMES) - {row["code"] for row in rows})
        if unknown:
            raise CommandError(f"short names of unknown building blocks {unknown}")
        out: list[dict] = []
        for order, row in enumerate(rows, start=1):
            where = f"building_blocks.csv, line {order + 1}"
            code = row["code"]
            if not re.fullmatch(r"[a-z0-9_-]+", code):
                raise CommandError(f"{where}: bad code {code!r}")
            out.append(
                {
                    "code": code,
                    "name": row["name"],
                    "name_en": row["name_en"],
                    "short_name": SHORT_NAMES.get(code, ""),
                    "category": _category(row["category"], where),
                    "owner": row["owner"],
                    "description_nl": row["description_nl"],
                    "description_en": row["description_en"],
                    "order": order,
                    "weight": "1",
                    "source": row["source"],
                    "confidence": _confidence(row["confidence"], where),
                }
            )
        duplicates = [c for c, n in Counter(r["code"] for r in out).items() if n > 1]
        if duplicates:
            raise CommandError(f"building_blocks.csv: duplicate codes {duplicates}")
        _write_csv(output / reference.BLOCKS_FILE, list(out[0]), out)
        self.stdout.write(f"{len(out)} building blocks")
        return {r["code"] for r in out}

    def _agreements(self, folder: Path, output: Path, blocks: set[str]) -> None:
        rows = _read_csv(folder / "result_agreements.csv")
        english = _english_descriptions({int(row["number"]) for row in rows})
        agreements: list[dict] = []
        requirements: list[dict] = []
        for line, row in enumerate(rows, start=2):
            where = f"result_agreements.csv, line {line}"
            number = int(row["number"])
            # No agreement-specific deadline was found: use the programme end, and say so.
            agreements.append(
                {
                    "number": number,
                    "title": row["title_nl"],
                    "title_en": row["title_en"],
                    "description": row["description_nl"],
                    "description_en": english.get(number, ""),
                    "deadline": row["deadline"] or PROGRAMME_END.isoformat(),
                    "deadline_is_reference": "0" if row["deadline"] else "1",
                    "source": row["source"],
                    "confidence": _confidence(row["confidence"], where),
                    "source_note": row["notes"],
                }
            )
            min_population = _min_population(row["notes"])
            for code in filter(
                None, (c.strip() for c in row["building_blocks"].split(";"))
            ):
                if code not in blocks:
                    raise CommandError(f"{where}: unknown building block {code!r}")
                requirements.append(
                    {
                        "agreement_number": number,
                        "block_code": code,
                        "minimum_level": Level.IN_USE.value,
                        "min_population": min_population,
                    }
                )
        _write_csv(output / reference.AGREEMENTS_FILE, list(agreements[0]), agreements)
        _write_csv(
            output / reference.REQUIREMENTS_FILE, list(requirements[0]), requirements
        )
        self.stdout.write(
            f"{len(agreements)} result agreements, {len(requirements)} requirements"
        )


# "… for municipalities over 100,000 inhabitants …" in an agreement's source note:
# its requirements apply to municipalities of at least that size only.
_POPULATION_CONDITION = re.compile(
    r"municipalities (?:of|over|with more than|above) ([\d,]+) inhabitants"
)


def _min_population(note: str) -> str:
    """The population threshold a source note sets ("" for none), as CSV text."""
    match = _POPULATION_CONDITION.search(note)
    return match.group(1).replace(",", "") if match else ""


def _english_descriptions(numbers: set[int]) -> dict[int, str]:
    """The project's own English descriptions of the agreements, by number.

    The research folder has Dutch descriptions only; the English ones are ours
    (data/english/), kept apart so that a rebuild from new research keeps them.
    """
    path = ENGLISH_DIR / "result_agreements.csv"
    english = {int(row["number"]): row["description_en"] for row in _read_csv(path)}
    unknown = sorted(set(english) - numbers)
    if unknown:
        raise CommandError(f"{path.name} (English): unknown agreements {unknown}")
    return english


def _make_slugs_unique(rows: list[dict], slug_key: str, code_key: str) -> None:
    counts = Counter(row[slug_key] for row in rows)
    for row in rows:
        if counts[row[slug_key]] > 1:
            row[slug_key] = f"{row[slug_key]}-{row[code_key].lower()}"
