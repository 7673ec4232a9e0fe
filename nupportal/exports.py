"""CSV/XLSX downloads of tables, safe to open in a spreadsheet.

Every exportable table in the portal goes through `SafeExportMixin`, so the
formula-injection guard lives in one place: a text cell that a spreadsheet would
read as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) gets a leading apostrophe, which spreadsheets show as plain text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.text import slugify

from django_tables2.export import ExportMixin, TableExport

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The same rule as a regular expression, for exports escaped in SQL
# (buildingblocks.streaming): a character class with the hyphen last.
FORMULA_REGEX = (
    "^["
    + "".join(p for p in FORMULA_PREFIXES if p != "-")
    + ("-" if "-" in FORMULA_PREFIXES else "")
    + "]"
)
EXPORT_FORMATS = (TableExport.CSV, TableExport.XLSX)


def escape_cell(value: Any) -> Any:
    """Neutralise a cell a spreadsheet would evaluate; numbers and dates pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def escape_row(row: Iterable[Any]) -> list[Any]:
    return [escape_cell(value) for value in row]


class SafeTableExport(TableExport):
    """A django-tables2 export whose header and cells are escaped against formulas."""

    def table_to_dataset(self, table, exclude_columns, dataset_kwargs=None):
        dataset = super().table_to_dataset(table, exclude_columns, dataset_kwargs)
        escaped = [escape_row(row) for row in dataset]
        headers = escape_row(str(header) for header in dataset.headers or [])
        dataset.wipe()
        dataset.headers = headers
        for row in escaped:
            dataset.append(row)
        return dataset


class SafeExportMixin(ExportMixin):
    """ExportMixin with escaped cells, CSV and XLSX, and export without pagination.

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
        return f"{slugify(self.export_name)}.{export_format}"

    def get_dataset_kwargs(self) -> dict:
        # XLSX sheet titles are limited to 31 characters.
        return {"title": str(self.export_name)[:31]}
