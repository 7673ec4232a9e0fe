"""CSV/XLSX downloads, safe to open in a spreadsheet and right in Dutch Excel.

One place for the rules every export follows (the table downloads below, the
streamed status CSV in buildingblocks.streaming, the reports in reports/):

- **Formulas are never evaluated.** A text cell a spreadsheet would read as a
  formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return) gets a leading apostrophe, which spreadsheets show as plain text. The
  same happens after every character a spreadsheet may split a cell on (``;``,
  ``,``, tab, line break): ``veilig;=2*3`` becomes ``veilig;'=2*3``, so even a
  program that splits the cell never sees ``=2*3`` at the start of one.
- **CSV for Dutch Excel**: semicolons between fields, every field quoted,
  decimal comma, UTF-8 with a byte-order mark. Dutch Excel splits on ``;`` (its
  list separator) and reads the BOM as UTF-8, so "Fryslân" survives. We chose
  this over a ``sep=;`` first line: with ``sep=`` Excel ignores the BOM (the
  text turns into mojibake) and the file is no longer a plain CSV for other
  programs (Python's csv.Sniffer, pandas, LibreOffice see a bogus first row).
  Quoting every field also makes the delimiter unambiguous for csv.Sniffer.
- **Numbers as shown, and exact**: a rounded column holds the value as the
  page shows it (nupportal.formats.round_half_up); beside it a column "… (exact)"
  holds the unrounded value. XLSX cells are real numbers and dates with a
  number format; CSV dates are ISO (YYYY-MM-DD), which Excel reads as dates.
- **Demo data says so**: while NUP_DEMO_NOTICE is on, every export carries a
  column stating that the statuses are synthetic (`demo_notice`).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.text import slugify
from django.utils.translation import gettext as _

import django_tables2 as tables
from django_tables2.export import ExportMixin, TableExport
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters a spreadsheet (or a naive import) may split one cell on.
CELL_BREAKS = (";", ",", "\t", "\r", "\n")
# The leading rule as a regular expression, for exports escaped in SQL
# (buildingblocks.streaming): a character class with the hyphen last.
FORMULA_REGEX = (
    "^["
    + "".join(p for p in FORMULA_PREFIXES if p != "-")
    + ("-" if "-" in FORMULA_PREFIXES else "")
    + "]"
)
# After a break (and any spaces) a formula may start again; the apostrophe goes
# right before its first character. Written for both Python's `re` and
# PostgreSQL's regexp_replace (same syntax for this subset): group 1 is kept.
INNER_FORMULA_REGEX = "([" + "".join(CELL_BREAKS) + "] *)([=+@-])"
INNER_FORMULA_REPLACEMENT = "\\1'\\2"
_INNER_FORMULA = re.compile(INNER_FORMULA_REGEX)

CSV_DELIMITER = ";"
CSV_ENCODING = "utf-8-sig"  # the BOM makes Excel read UTF-8
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
EXPORT_FORMATS = (TableExport.CSV, TableExport.XLSX)


def escape_text(text: str) -> str:
    """`text` with an apostrophe before every place a formula could start."""
    text = _INNER_FORMULA.sub(INNER_FORMULA_REPLACEMENT, text)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def escape_cell(value: Any) -> Any:
    """Neutralise a cell a spreadsheet would evaluate; numbers and dates pass unchanged."""
    if isinstance(value, str):
        return escape_text(value)
    return value


def demo_notice() -> str | None:
    """The sentence every export of demo data carries, or None for real data."""
    if not settings.NUP_DEMO_NOTICE:
        return None
    return _("Synthetic demo data: the statuses are invented, not real figures.")


def demo_notice_header() -> str:
    return _("Data")


# --- CSV ---------------------------------------------------------------------


def csv_writer(stream: io.TextIOBase):
    """A csv.writer in the portal's dialect (see the module docstring)."""
    return csv.writer(
        stream, delimiter=CSV_DELIMITER, quoting=csv.QUOTE_ALL, lineterminator="\r\n"
    )


def csv_cell(value: Any) -> str:
    """One cell as CSV text: decimal comma, ISO dates, local times, escaped text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float | Decimal):
        text = format(value, "f") if isinstance(value, Decimal) else repr(value)
        return text.replace(".", ",")
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return escape_text(str(value))


def csv_bytes(header: list[str], rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow([csv_cell(h) for h in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode(CSV_ENCODING)


# --- XLSX --------------------------------------------------------------------


def xlsx_value(value: Any) -> Any:
    """A value openpyxl writes as the right cell type (naive local datetimes)."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.make_naive(value)
    if isinstance(value, Decimal):
        return float(value)
    return escape_cell(value)


def xlsx_number_format(value: Any, decimal_pos: int | None) -> str | None:
    if isinstance(value, datetime.datetime):
        return XLSX_DATETIME_FORMAT
    if isinstance(value, datetime.date):
        return XLSX_DATE_FORMAT
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if decimal_pos is None:
        return "#,##0" if isinstance(value, int) else None
    return "0" if decimal_pos <= 0 else "0." + "0" * decimal_pos


def xlsx_cell(sheet, value: Any, decimal_pos: int | None = None) -> WriteOnlyCell:
    """A typed, escaped write-only cell with the number format its type needs."""
    value = xlsx_value(value)
    cell = WriteOnlyCell(sheet, value=value)
    number_format = xlsx_number_format(value, decimal_pos)
    if number_format:
        cell.number_format = number_format
    return cell


def xlsx_header(sheet, names: Iterable[Any]) -> None:
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=escape_cell(str(name)))
        cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)


def xlsx_bytes(
    title: str,
    header: list[str],
    rows: Iterable[Iterable[Any]],
    *,
    decimals: list[int | None] | None = None,
) -> bytes:
    """One sheet: bold frozen header, auto-filter, typed cells with number formats."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31] or "-")
    sheet.freeze_panes = "A2"
    xlsx_header(sheet, header)
    decimals = decimals or []
    count = 0
    for row in rows:
        sheet.append(
            [
                xlsx_cell(sheet, raw, decimals[i] if i < len(decimals) else None)
                for i, raw in enumerate(row)
            ]
        )
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(header)))}{count + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Table downloads (django-tables2) ----------------------------------------


def _rounds(column: tables.Column) -> bool:
    """A column that rounds on the page (NumberColumn, PercentColumn) and has `exact`."""
    return bool(getattr(column, "rounds", False))


def _raw_value(row, bound_column) -> Any:
    """The cell's value before rendering (the accessor's result, choices resolved).

    django-tables2 has no public call for it; `get_cell_value` renders dates to text.
    """
    return row._get_and_render_with(
        bound_column, render_func=lambda _column, value=None: value, default=None
    )


class SafeTableExport(TableExport):
    """A django-tables2 export with typed, escaped cells in the portal's dialect.

    Columns that round on the page (`rounds`, `decimal_pos`, `exact()`) export
    the rounded value and, beside it, the exact one. Date columns export the
    date itself, not its text, so XLSX holds real dates.
    """

    def table_to_dataset(self, table, exclude_columns, dataset_kwargs=None):
        from tablib import Dataset

        kwargs = {"title": "Export"}
        kwargs.update(dataset_kwargs or {})
        dataset = Dataset(**kwargs)
        columns = [
            column
            for column in table.columns.iterall()
            if not (
                column.column.exclude_from_export
                or column.name in (exclude_columns or ())
            )
        ]
        headers: list[str] = []
        self.decimals: list[int | None] = []
        for column in columns:
            headers.append(str(column.header))
            rounds = _rounds(column.column)
            self.decimals.append(column.column.decimal_pos if rounds else None)
            if rounds:
                headers.append(_("%(column)s (exact)") % {"column": column.header})
                self.decimals.append(None)
        notice = demo_notice()
        if notice:
            headers.append(demo_notice_header())
            self.decimals.append(None)
        dataset.headers = headers
        for row in table.rows:
            values: list[Any] = []
            for column in columns:
                values.extend(self._cells(table, row, column))
            if notice:
                values.append(notice)
            dataset.append(values)
        return dataset

    @staticmethod
    def _cells(table, row, bound_column) -> list[Any]:
        column = bound_column.column
        name = bound_column.name
        custom = hasattr(table, f"value_{name}") or hasattr(table, f"render_{name}")
        if _rounds(column):
            exact = _raw_value(row, bound_column)
            if exact in column.empty_values:
                return [None, None]
            return [row.get_cell_value(name), column.exact(exact)]
        if isinstance(column, tables.DateColumn | tables.DateTimeColumn) and not custom:
            value = _raw_value(row, bound_column)
            if not isinstance(value, datetime.date):
                return [None]
            if isinstance(value, datetime.datetime) and not isinstance(
                column, tables.DateTimeColumn
            ):
                # A date column shows the day (local), e.g. of a last-update time.
                value = timezone.localtime(value).date()
            return [value]
        value = force_str(row.get_cell_value(name), strings_only=True)
        return [None if value == table.default else value]

    def export(self):
        header = list(self.dataset.headers or [])
        if self.format == self.CSV:
            return csv_bytes(header, self.dataset)
        if self.format == self.XLSX:
            return xlsx_bytes(
                self.dataset.title or "Export",
                header,
                self.dataset,
                decimals=self.decimals,
            )
        return super().export()


class SafeExportMixin(ExportMixin):
    """ExportMixin with typed, escaped cells, CSV and XLSX, and no pagination.

    Anyone who may see a table may download it: the exported columns are the
    columns on the page (notes and evidence are never in these tables).
    """

    export_class = SafeTableExport
    export_formats = EXPORT_FORMATS

    def is_export_request(self) -> bool:
        return self.export_class.is_valid_format(
            self.request.GET.get(self.export_trigger_param)
        )

    def get_export_filename(self, export_format: str) -> str:
        from scoring import timetravel

        # An export of a page shown on a past date says which day it holds.
        on = timetravel.requested(self.request)
        suffix = f"-{on.isoformat()}" if on else ""
        return f"{slugify(self.export_name)}{suffix}.{export_format}"

    def get_dataset_kwargs(self) -> dict:
        # XLSX sheet titles are limited to 31 characters.
        return {"title": str(self.export_name)[:31]}
