"""CSV as the alternative representation of list-like resources (Accept: text/csv)."""

from __future__ import annotations

import csv
import io
from typing import Any

from rest_framework.renderers import BaseRenderer

from nupportal.exports import escape_cell


class CSVRenderer(BaseRenderer):
    """The rows of a response as CSV: the view says which key holds the rows.

    Nested values (lists, objects) are left out: CSV is for flat tables. Cells
    that a spreadsheet would run as a formula are escaped (nupportal.exports).
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None):
        view = (renderer_context or {}).get("view")
        rows = data.get(getattr(view, "csv_rows", "results"), []) if data else []
        rows = [row for row in rows if isinstance(row, dict)]
        columns = [
            key
            for key, value in (rows[0].items() if rows else [])
            if not isinstance(value, dict | list)
        ]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([escape_cell(row.get(column)) for column in columns])
        return out.getvalue().encode(self.charset)
