"""Bulk import of adoption statuses: reading the file and the rules for each row.

Pure: bytes and already-loaded lookups in, rows, errors and planned changes out.
No queries, no settings (limits are arguments), no side effects. The upload view
and `buildingblocks.import_service` supply the database side.

File format (also on the import page and in the downloadable template):

- CSV (UTF-8, with or without byte-order mark; comma, semicolon or tab as
  delimiter, detected from the header line) or XLSX (first sheet).
- A header row with exactly these columns, in any order:
  ``cbs_code, building_block, level, planned_date, achieved_date, note, evidence_url``.
- Each row updates the status of one building block of one municipality. An
  empty cell leaves that field as it is; the clear marker ``#leeg`` (or
  ``#empty``) empties it. So a file with only the columns you fill in changes
  nothing else, and an empty cell can never wipe a planned date by accident.
  The level cannot be cleared (a block without a status is "not started").
  Row numbers are those of the spreadsheet, the header being row 1.
- Dates as ``YYYY-MM-DD`` or ``DD-MM-YYYY`` (XLSX date cells also work).
- CSV is parsed strictly: a quote that is opened but not closed properly would
  otherwise swallow the rows after it into one cell, so the file is refused and
  the row named.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from buildingblocks.levels import Level
from buildingblocks.validation import (
    NOTE_MAX_LENGTH,
    STATUS_FIELDS,
    StatusValues,
    validate_status,
)

COLUMNS: tuple[str, ...] = ("cbs_code", "building_block", *STATUS_FIELDS)
EVIDENCE_URL_MAX_LENGTH = 500

# The Dutch names as the status editor shows them are accepted besides the codes,
# so a file typed by hand from the portal's pages works too.
LEVEL_ALIASES: dict[str, str] = {
    "niet gestart": Level.NOT_STARTED,
    "in voorbereiding": Level.PREPARING,
    "in implementatie": Level.IMPLEMENTING,
    "in gebruik": Level.IN_USE,
    "niet van toepassing": Level.NOT_APPLICABLE,
    "not started": Level.NOT_STARTED,
    "preparing": Level.PREPARING,
    "implementing": Level.IMPLEMENTING,
    "in use": Level.IN_USE,
    "not applicable": Level.NOT_APPLICABLE,
}

# Written in a cell to empty that field (an empty cell means "unchanged").
CLEAR_MARKER = "#leeg"
CLEAR_MARKERS = frozenset({CLEAR_MARKER, "#empty"})

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DUTCH_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_CBS_DIGITS = re.compile(r"^(?:GM)?(\d{1,4})$")

# XLSX structure: the parts every workbook written by Excel/LibreOffice/openpyxl has.
_XLSX_REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_XLSX_MAX_PARTS = 200


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message is shown to the user."""


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row number (header = 1); 0 for the file as a whole
    column: str  # a column name, or '' for the whole row
    message: str


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class ParsedRow:
    """A row that passed every check, with typed values."""

    row: int
    cbs_code: str
    block_code: str
    values: StatusValues


@dataclass(frozen=True)
class PlannedChange:
    row: int
    cbs_code: str
    block_code: str
    values: StatusValues
    changes: tuple[FieldChange, ...]
    is_new: bool  # no status row existed yet for this municipality × block


@dataclass
class ImportPlan:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    changes: list[PlannedChange] = field(default_factory=list)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class MunicipalityRef:
    cbs_code: str
    active: bool


# --- Reading the file -------------------------------------------------------


def read_table(
    data: bytes,
    filename: str,
    *,
    max_bytes: int,
    max_rows: int,
    max_xml_bytes: int = 50 * 1024 * 1024,
) -> list[tuple[int, dict[str, str]]]:
    """Return (row number, {column: text}) for each non-empty data row.

    Raises ImportFileError for a file that is too large, of the wrong type, has
    the wrong header or too many rows. Every check that can be done on the raw
    bytes happens before any parsing.
    """
    if len(data) > max_bytes:
        raise ImportFileError(
            _("The file is larger than the limit of %(limit)s MB.")
            % {"limit": round(max_bytes / (1024 * 1024), 1)}
        )
    if not data:
        raise ImportFileError(_("The file is empty."))
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    is_zip = data[:4] == b"PK\x03\x04"
    if extension == "csv":
        if is_zip or b"\x00" in data[:8192]:
            raise ImportFileError(
                _(
                    "The file is called .csv but is not a text file. Save it as CSV (UTF-8)."
                )
            )
        return _read_csv(data, max_rows=max_rows)
    if extension == "xlsx":
        if not is_zip:
            raise ImportFileError(
                _("The file is called .xlsx but is not an Excel workbook.")
            )
        return _read_xlsx(data, max_rows=max_rows, max_xml_bytes=max_xml_bytes)
    raise ImportFileError(_("Only CSV (.csv) and Excel (.xlsx) files can be imported."))


def _check_header(header: list[str]) -> list[str]:
    names = [_clean_header(cell) for cell in header]
    while names and not names[-1]:
        names.pop()
    if sorted(names) != sorted(COLUMNS):
        raise ImportFileError(
            _(
                "The first row must name exactly these columns: %(expected)s. "
                "Found: %(found)s."
            )
            % {
                "expected": ", ".join(COLUMNS),
                "found": ", ".join(n for n in names if n) or "—",
            }
        )
    return names


def _clean_header(cell: object) -> str:
    return str(cell or "").strip().lstrip("\ufeff").strip().lower()


def _too_many_rows(max_rows: int) -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(limit)s rows; split it into smaller files.")
        % {"limit": max_rows}
    )


def _read_csv(data: bytes, *, max_rows: int) -> list[tuple[int, dict[str, str]]]:
    # Checked on the raw lines before parsing anything (a note with a line break
    # counts twice here; the exact count is checked again while reading).
    if sum(1 for line in data.splitlines() if line.strip()) > max_rows + 1:
        raise _too_many_rows(max_rows)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    # strict: a stray quote is an error, not the start of a cell that silently
    # runs on over the following rows.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ImportFileError(_("The file is empty.")) from exc
    except csv.Error as exc:
        raise ImportFileError(_("The file is not valid CSV.")) from exc
    names = _check_header(header)
    return _collect(names, _csv_rows(reader, names, delimiter), max_rows=max_rows)


def _stray_quote(line: int) -> ImportFileError:
    return ImportFileError(
        _(
            'Row %(row)s has a quote (") that is not closed properly, so the rows '
            "after it cannot be read. Remove the stray quote, or put the whole cell "
            'between quotes and double the quotes inside it ("").'
        )
        % {"row": line}
    )


def _csv_rows(
    reader, names: list[str], delimiter: str
) -> Iterator[tuple[int, list[object]]]:
    # Only a note may span lines; a note line that starts like a row of this file
    # (a CBS code and a delimiter) is a row swallowed by a quote opened above it.
    note_at = names.index("note") if "note" in names else -1
    row_like = re.compile(r"^\s*(?:GM)?\d{1,4}\s*" + re.escape(delimiter), re.I)
    start = reader.line_num + 1
    try:
        for cells in reader:
            for i, cell in enumerate(cells):
                if "\n" not in cell and "\r" not in cell:
                    continue
                lines = cell.splitlines()[1:]
                if i != note_at or any(row_like.match(line) for line in lines):
                    raise _stray_quote(start)
            # reader.line_num counts physical lines; a quoted newline spans two.
            yield reader.line_num, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        if "expected" in str(exc) or "end of data" in str(exc):
            raise _stray_quote(start) from exc
        raise ImportFileError(
            _("The file is not valid CSV near line %(line)s.") % {"line": start}
        ) from exc


def _read_xlsx(
    data: bytes, *, max_rows: int, max_xml_bytes: int
) -> list[tuple[int, dict[str, str]]]:
    not_xlsx = ImportFileError(
        _("The file is called .xlsx but is not an Excel workbook.")
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise not_xlsx from exc
    names = {info.filename for info in infos}
    if len(infos) > _XLSX_MAX_PARTS or not all(
        p in names for p in _XLSX_REQUIRED_PARTS
    ):
        raise not_xlsx
    # Zip bomb guard: the declared uncompressed sizes, checked before inflating.
    if sum(info.file_size for info in infos) > max_xml_bytes:
        raise ImportFileError(
            _("The workbook unpacks to more than %(limit)s MB; it cannot be imported.")
            % {"limit": max_xml_bytes // (1024 * 1024)}
        )
    import openpyxl  # heavy; only needed for XLSX

    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True
        )
    except Exception as exc:  # openpyxl raises many types for broken files
        raise not_xlsx from exc
    try:
        sheet = workbook.worksheets[0]
        declared = sheet.max_row  # from the <dimension> element, when present
        if declared is not None and declared > max_rows + 1:
            raise _too_many_rows(max_rows)
        rows = sheet.iter_rows(values_only=True)
        try:
            header = next(rows)
        except StopIteration as exc:
            raise ImportFileError(_("The file is empty.")) from exc
        names = _check_header(list(header))
        numbered = ((number, list(cells)) for number, cells in enumerate(rows, start=2))
        return _collect(names, numbered, max_rows=max_rows)
    finally:
        workbook.close()


def _collect(
    names: list[str], rows: Iterable[tuple[int, list[object]]], *, max_rows: int
) -> list[tuple[int, dict[str, str]]]:
    result: list[tuple[int, dict[str, str]]] = []
    for number, cells in rows:
        values = [_cell_text(cell) for cell in cells]
        if not any(values):
            continue  # blank lines are ignored
        if any("\x00" in value for value in values):
            # Not text; PostgreSQL cannot even store it (JSON/text refuse U+0000).
            raise ImportFileError(
                _("Row %(row)s contains a null character; the file is not plain text.")
                % {"row": number}
            )
        if len(result) >= max_rows:
            raise _too_many_rows(max_rows)
        values += [""] * (len(names) - len(values))
        row = {name: values[i] for i, name in enumerate(names) if name}
        if any(values[len(names) :]):
            row["__extra__"] = "1"
        result.append((number, row))
    return result


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime.datetime):
        return cell.date().isoformat()
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


# --- Rules for each row -----------------------------------------------------


def parse_date(text: str) -> datetime.date | None:
    """Parse YYYY-MM-DD or DD-MM-YYYY ('-', '/' or '.'); '' is None; ValueError if bad."""
    text = text.strip()
    if not text:
        return None
    if text[:10] != text and re.match(r"^\d{4}-\d{2}-\d{2}[ T]00:00(:00)?$", text):
        text = text[:10]  # a spreadsheet date cell written out with its midnight
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _DUTCH_DATE.match(text)
        if not match:
            raise ValueError(text)
        day, month, year = (int(g) for g in match.groups())
    return datetime.date(year, month, day)


def normalise_cbs_code(text: str) -> str:
    """'gm0394', 'GM394' and '394' all become 'GM0394'; anything else is returned upper-cased."""
    text = text.strip().upper().replace(" ", "")
    match = _CBS_DIGITS.match(text)
    return f"GM{int(match.group(1)):04d}" if match else text


def normalise_level(text: str) -> str:
    key = text.strip().lower()
    if key in Level.values:
        return key
    return LEVEL_ALIASES.get(key.replace("_", " "), key)


def plan_import(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    *,
    municipalities: Mapping[str, MunicipalityRef],
    blocks: Mapping[str, bool],
    current: Mapping[tuple[str, str], StatusValues],
    today: datetime.date,
) -> ImportPlan:
    """Check every row and work out what would change.

    `municipalities`: CBS code → reference; `blocks`: block code → active;
    `current`: (CBS code, block code) → the status now (absent: none recorded yet,
    which counts as "not started" without dates).
    """
    plan = ImportPlan()
    seen: dict[tuple[str, str], int] = {}
    for number, raw in rows:
        plan.rows += 1
        parsed, errors = _check_row(
            number,
            raw,
            municipalities=municipalities,
            blocks=blocks,
            current=current,
            today=today,
        )
        if parsed is not None:
            key = (parsed.cbs_code, parsed.block_code)
            if key in seen:
                errors.append(
                    RowError(
                        number,
                        "",
                        str(
                            _(
                                "Municipality %(cbs)s and block %(block)s already appear in row %(row)s."
                            )
                            % {"cbs": key[0], "block": key[1], "row": seen[key]}
                        ),
                    )
                )
            else:
                seen[key] = number
        plan.errors.extend(errors)
        if errors or parsed is None:
            continue
        before = current.get((parsed.cbs_code, parsed.block_code))
        changes = diff_status(before, parsed.values)
        if changes:
            plan.changes.append(
                PlannedChange(
                    row=number,
                    cbs_code=parsed.cbs_code,
                    block_code=parsed.block_code,
                    values=parsed.values,
                    changes=changes,
                    is_new=before is None,
                )
            )
        else:
            plan.unchanged += 1
    return plan


_EMPTY = StatusValues(level=Level.NOT_STARTED)


def diff_status(
    before: StatusValues | None, after: StatusValues
) -> tuple[FieldChange, ...]:
    """The fields that differ, as text (dates ISO, '' for empty)."""
    old = before or _EMPTY
    changes = []
    for name in STATUS_FIELDS:
        a, b = _as_text(getattr(old, name)), _as_text(getattr(after, name))
        if a != b:
            changes.append(FieldChange(name, a, b))
    if before is None and not changes:
        # No status row yet: writing "not started" still records it explicitly.
        changes.append(FieldChange("level", "", after.level))
    return tuple(changes)


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _check_row(
    number: int,
    raw: Mapping[str, str],
    *,
    municipalities: Mapping[str, MunicipalityRef],
    blocks: Mapping[str, bool],
    current: Mapping[tuple[str, str], StatusValues],
    today: datetime.date,
) -> tuple[ParsedRow | None, list[RowError]]:
    """Check one row; its empty cells take the current value (see the module doc)."""
    errors: list[RowError] = []

    def add(column: str, message) -> None:
        errors.append(RowError(number, column, str(message)))

    if raw.get("__extra__"):
        add("", _("This row has more cells than the header has columns."))

    cbs_text = raw.get("cbs_code", "")
    cbs_code = normalise_cbs_code(cbs_text)
    if not cbs_text:
        add("cbs_code", _("The CBS code is missing."))
    elif cbs_code not in municipalities:
        add(
            "cbs_code",
            _("There is no municipality with CBS code “%(code)s”.")
            % {"code": cbs_text},
        )
    elif not municipalities[cbs_code].active:
        add(
            "cbs_code",
            _(
                "Municipality %(code)s no longer exists (merged); use its successor's code."
            )
            % {"code": cbs_code},
        )

    block_text = raw.get("building_block", "")
    block_code = block_text.strip().lower()
    if not block_code:
        add("building_block", _("The building block is missing."))
    elif block_code not in blocks:
        add(
            "building_block",
            _("There is no building block with code “%(code)s”.")
            % {"code": block_text},
        )
    elif not blocks[block_code]:
        add(
            "building_block",
            _("Building block “%(code)s” is no longer in use.") % {"code": block_code},
        )

    before = current.get((cbs_code, block_code)) or _EMPTY
    kept: set[str] = set()  # fields whose value is the current one (empty cell)

    def cell(column: str) -> str | None:
        """The cell's text; None for "unchanged" (empty), '' for the clear marker."""
        text = raw.get(column, "")
        if not text.strip():
            if getattr(before, column) not in (None, ""):
                kept.add(column)
            return None
        return "" if text.strip().lower() in CLEAR_MARKERS else text

    level_text = cell("level")
    level = before.level if level_text is None else normalise_level(level_text)
    if level_text == "":
        add("level", _("The level cannot be cleared; give one of the levels."))
    elif level not in Level.values:
        add(
            "level",
            _("“%(value)s” is not a level; use one of: %(levels)s.")
            % {"value": level_text, "levels": ", ".join(Level.values)},
        )

    dates: dict[str, datetime.date | None] = {}
    for column in ("planned_date", "achieved_date"):
        text = cell(column)
        if text is None:
            dates[column] = getattr(before, column)
            continue
        try:
            dates[column] = parse_date(text)
        except ValueError:
            dates[column] = None
            add(
                column,
                _(
                    "“%(value)s” is not a date; write it as YYYY-MM-DD or DD-MM-YYYY "
                    "(or %(clear)s to clear it)."
                )
                % {"value": text, "clear": CLEAR_MARKER},
            )

    note_text = cell("note")
    note = before.note if note_text is None else note_text
    if len(note) > NOTE_MAX_LENGTH:
        add(
            "note",
            _("The note is longer than %(limit)s characters.")
            % {"limit": NOTE_MAX_LENGTH},
        )
    url_text = cell("evidence_url")
    evidence_url = before.evidence_url if url_text is None else url_text.strip()
    if len(evidence_url) > EVIDENCE_URL_MAX_LENGTH:
        add(
            "evidence_url",
            _("The evidence link is longer than %(limit)s characters.")
            % {"limit": EVIDENCE_URL_MAX_LENGTH},
        )

    values = StatusValues(
        level=level,
        planned_date=dates["planned_date"],
        achieved_date=dates["achieved_date"],
        note=note,
        evidence_url=evidence_url,
    )
    if level in Level.values:
        # The status editor's rules; skip fields that already failed to parse.
        for name, messages in validate_status(values, today=today).items():
            column = name or "level"
            if any(e.column == column for e in errors):
                continue
            for message in messages:
                if column in kept:
                    message = _(
                        "%(message)s (The current value was kept because the cell "
                        "is empty; write %(clear)s to clear it.)"
                    ) % {"message": message, "clear": CLEAR_MARKER}
                add(column, message)

    # Returned even with errors (when identifiable) so duplicates are still found.
    parsed = ParsedRow(number, cbs_code, block_code, values)
    return (parsed if cbs_code and block_code else None), errors


# The template's example rows: a real municipality and real block codes
# (data/reference), checked by a test that runs the template's own dry run.
TEMPLATE_MUNICIPALITY = "GM0363"  # Amsterdam
TEMPLATE_BLOCKS = ("digid", "mijnoverheid_berichtenbox")


def template_rows(today: datetime.date) -> list[list[str]]:
    """The header and two example rows, valid against any current status.

    Row 1 leaves the dates, note and link empty: unchanged. Row 2 plans a date
    next year and clears the achieved date with the marker, which a status that
    was "in use" needs when it goes back to "implementing".
    """
    planned = datetime.date(today.year + 1, 6, 30)
    return [
        list(COLUMNS),
        [TEMPLATE_MUNICIPALITY, TEMPLATE_BLOCKS[0], "in_use", "", "", "", ""],
        [
            TEMPLATE_MUNICIPALITY,
            TEMPLATE_BLOCKS[1],
            "implementing",
            planned.isoformat(),
            CLEAR_MARKER,
            str(
                _(
                    "Planned for Q2 %(year)s. An empty cell leaves a field unchanged; "
                    "%(clear)s clears it."
                )
                % {"year": planned.year, "clear": CLEAR_MARKER}
            ),
            "",
        ],
    ]


def template_csv(today: datetime.date) -> str:
    """The downloadable template as CSV text for Dutch Excel (write it with a BOM)."""
    from nupportal.exports import csv_writer

    buffer = io.StringIO()
    csv_writer(buffer).writerows(template_rows(today))
    return buffer.getvalue()
