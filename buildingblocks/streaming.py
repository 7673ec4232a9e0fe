"""A streamed CSV of every current status, in constant memory at any size.

Rows come from the database through `values_list().iterator(chunk_size=…)`,
a server-side cursor (or, on PostgreSQL, the server's own COPY … TO STDOUT): the
process never holds more than one chunk. The database hands every cell over as text (dates cast, formula-like
text already escaped), so Python only moves strings: `csv.writer.writerows`
writes ~64 KB batches into a small buffer that is handed to the
`StreamingHttpResponse`, so a 500,000-row export
costs a few MB of memory and about as much time as PostgreSQL's own COPY of
the same SELECT (`make bench` measures both; see docs/performance.md).

    response = status_csv_response(AdoptionStatus.objects.filter(...))

Text cells a spreadsheet would evaluate are escaped (nupportal.exports).
Notes and evidence links are left out unless `include_notes` (VDP and KING
staff may see them; the caller decides).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import islice

from django.db import connection
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.db.models.functions import Cast, Concat
from django.http import StreamingHttpResponse

from buildingblocks.models import AdoptionStatus
from nupportal.exports import FORMULA_REGEX

CHUNK_SIZE = 5000
# Flush the buffer to the client at about this many characters.
FLUSH_AT = 64 * 1024

HEADER = (
    "cbs_code",
    "municipality",
    "building_block",
    "level",
    "planned_date",
    "achieved_date",
    "updated_at",
)
NOTE_HEADER = ("note", "evidence_url")


def _escaped(field: str):
    """The column with a leading apostrophe when a spreadsheet would evaluate it.

    Done in SQL so the Python loop only moves strings (see module docstring).
    """
    return Case(
        When(
            **{f"{field}__regex": FORMULA_REGEX},
            then=Concat(Value("'"), F(field), output_field=CharField()),
        ),
        default=F(field),
        output_field=CharField(),
    )


def _as_text(field: str):
    # Dates and times leave the database as text: no per-cell conversion here.
    return Cast(field, output_field=CharField())


def status_queryset(queryset: QuerySet | None = None) -> QuerySet:
    """The statuses to export, in a stable order (CBS code, block order)."""
    queryset = AdoptionStatus.objects.all() if queryset is None else queryset
    return queryset.order_by("municipality__cbs_code", "block__order", "block__code")


def export_values(
    queryset: QuerySet | None = None, *, include_notes: bool = False
) -> QuerySet:
    """The rows of the export as a values_list queryset (the bench COPYs the same SQL)."""
    columns = {
        "x_cbs": F("municipality__cbs_code"),
        "x_name": _escaped("municipality__name"),
        "x_block": F("block__code"),
        "x_level": F("level"),
        "x_planned": _as_text("planned_date"),
        "x_achieved": _as_text("achieved_date"),
        "x_updated": _as_text("updated_at"),
    }
    if include_notes:
        columns["x_note"] = _escaped("note")
        columns["x_evidence"] = _escaped("evidence_url")
    return status_queryset(queryset).annotate(**columns).values_list(*columns.keys())


def status_csv_rows(
    queryset: QuerySet | None = None,
    *,
    include_notes: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[str | bytes]:
    """CSV in pieces of about FLUSH_AT characters, header first.

    On PostgreSQL the server writes the CSV itself (COPY … TO STDOUT) and the pieces
    are passed on as they arrive; elsewhere Python writes it from a cursor.
    """
    if connection.vendor == "postgresql":
        yield from _copy_csv_rows(queryset, include_notes=include_notes)
        return
    yield from _python_csv_rows(
        queryset, include_notes=include_notes, chunk_size=chunk_size
    )


def _copy_csv_rows(
    queryset: QuerySet | None, *, include_notes: bool
) -> Iterator[bytes]:
    header = HEADER + (NOTE_HEADER if include_notes else ())
    yield (",".join(header) + "\n").encode()
    sql, params = export_values(
        queryset, include_notes=include_notes
    ).query.sql_with_params()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        # The server ends lines with LF (the csv path with CRLF); both are valid
        # CSV, and rewriting them would also alter line breaks inside notes.
        copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
        with raw.copy(copy_sql, params) as copy:
            pending = bytearray()
            for block in copy:
                pending += block
                if len(pending) >= FLUSH_AT:
                    yield bytes(pending)
                    pending.clear()
            if pending:
                yield bytes(pending)


def _python_csv_rows(
    queryset: QuerySet | None, *, include_notes: bool, chunk_size: int
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER + (NOTE_HEADER if include_notes else ()))
    rows = export_values(queryset, include_notes=include_notes).iterator(
        chunk_size=chunk_size
    )
    batch_rows = max(1, FLUSH_AT // 80)  # ~80 characters a row
    while True:
        batch = list(islice(rows, batch_rows))
        if not batch:
            break
        writer.writerows(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    tail = buffer.getvalue()
    if tail:
        yield tail


def status_csv_response(
    queryset: QuerySet | None = None,
    *,
    include_notes: bool = False,
    filename: str = "statuses.csv",
) -> StreamingHttpResponse:
    """A download of the statuses that starts at once and never buffers the file."""
    response = StreamingHttpResponse(
        status_csv_rows(queryset, include_notes=include_notes),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
