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

The file follows the portal's CSV dialect (nupportal.exports): UTF-8 with BOM,
``;`` between fields, every field quoted. Text cells a spreadsheet would
evaluate are escaped by the rule of `nupportal.exports.escape_text`: on
PostgreSQL in the SELECT itself (``~`` and ``regexp_replace`` with the same
regular expressions), elsewhere in Python per cell. Notes and evidence links are
left out unless `include_notes` (VDP and KING staff may see them; the caller
decides). Demo data carries a last column saying so (`demo_notice`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from itertools import islice

from django.db import connection
from django.db.models import Case, CharField, F, Func, QuerySet, Value, When
from django.db.models.functions import Cast, Concat
from django.http import StreamingHttpResponse

from buildingblocks.models import AdoptionStatus
from nupportal.exports import (
    CSV_CONTENT_TYPE,
    CSV_DELIMITER,
    FORMULA_REGEX,
    INNER_FORMULA_REGEX,
    INNER_FORMULA_REPLACEMENT,
    csv_writer,
    demo_notice,
    escape_text,
)

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
NOTICE_HEADER = ("data",)
BOM = "\ufeff"
# Columns of text that may hold a formula (the others are codes, levels, dates).
_TEXT_COLUMNS = ("x_name", "x_note", "x_evidence")


def _escaped(field: str, *, in_sql: bool):
    """The column escaped as `nupportal.exports.escape_text` would (PostgreSQL).

    Done in SQL so the Python loop only moves strings (see module docstring):
    an apostrophe after every cell break that a formula follows, and one in
    front when the text itself starts like a formula (tested on the original
    text: the first character is never changed by the replacement).
    """
    if not in_sql:
        return F(field)
    inner = Func(
        F(field),
        Value(INNER_FORMULA_REGEX),
        Value(INNER_FORMULA_REPLACEMENT),
        Value("g"),
        function="REGEXP_REPLACE",
        output_field=CharField(),
    )
    return Case(
        When(
            **{f"{field}__regex": FORMULA_REGEX},
            then=Concat(Value("'"), inner, output_field=CharField()),
        ),
        default=inner,
        output_field=CharField(),
    )


def _escapes_in_sql() -> bool:
    return connection.vendor == "postgresql"


def header(*, include_notes: bool) -> tuple[str, ...]:
    notice = NOTICE_HEADER if demo_notice() else ()
    return HEADER + (NOTE_HEADER if include_notes else ()) + notice


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
    """The rows of the export as a values_list queryset (the bench COPYs the same SQL).

    On PostgreSQL the text columns come out escaped; elsewhere `_python_csv_rows`
    escapes them.
    """
    in_sql = _escapes_in_sql()
    columns = {
        "x_cbs": F("municipality__cbs_code"),
        "x_name": _escaped("municipality__name", in_sql=in_sql),
        "x_block": F("block__code"),
        "x_level": F("level"),
        "x_planned": _as_text("planned_date"),
        "x_achieved": _as_text("achieved_date"),
        "x_updated": _as_text("updated_at"),
    }
    if include_notes:
        columns["x_note"] = _escaped("note", in_sql=in_sql)
        columns["x_evidence"] = _escaped("evidence_url", in_sql=in_sql)
    notice = demo_notice()
    if notice:
        columns["x_notice"] = Value(notice, output_field=CharField())
    return status_queryset(queryset).annotate(**columns).values_list(*columns.keys())


def status_csv_rows(
    queryset: QuerySet | None = None,
    *,
    include_notes: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[str | bytes]:
    """CSV in pieces of about FLUSH_AT characters, header first.

    On PostgreSQL the server writes the CSV itself (COPY … TO STDOUT) and the pieces
    are passed on as they arrive; elsewhere Python writes it from a cursor. The
    header and the SELECT are built now, in the request's language (the demo
    notice is translated); the rows are read while the response is sent.
    """
    values = export_values(queryset, include_notes=include_notes)
    buffer = io.StringIO()
    buffer.write(BOM)
    csv_writer(buffer).writerow(header(include_notes=include_notes))
    if connection.vendor == "postgresql":
        return _copy_csv_rows(values, buffer.getvalue())
    return _python_csv_rows(values, buffer.getvalue(), chunk_size=chunk_size)


def _copy_csv_rows(values: QuerySet, head: str) -> Iterator[bytes]:
    yield head.encode()
    sql, params = values.query.sql_with_params()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        # The server ends lines with LF (the csv path with CRLF); both are valid
        # CSV, and rewriting them would also alter line breaks inside notes.
        copy_sql = (
            f"COPY ({sql}) TO STDOUT WITH "
            f"(FORMAT csv, DELIMITER '{CSV_DELIMITER}', FORCE_QUOTE *)"
        )
        with raw.copy(copy_sql, params) as copy:
            pending = bytearray()
            for block in copy:
                pending += block
                if len(pending) >= FLUSH_AT:
                    yield bytes(pending)
                    pending.clear()
            if pending:
                yield bytes(pending)


def _python_csv_rows(values: QuerySet, head: str, *, chunk_size: int) -> Iterator[str]:
    buffer = io.StringIO()
    buffer.write(head)
    writer = csv_writer(buffer)
    rows = values.iterator(chunk_size=chunk_size)
    if not _escapes_in_sql():
        text_at = [i for i, name in enumerate(values._fields) if name in _TEXT_COLUMNS]
        rows = (_escape_python(row, text_at) for row in rows)
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


def _escape_python(row: tuple, text_at: list[int]) -> list:
    cells = list(row)
    for i in text_at:
        if cells[i]:
            cells[i] = escape_text(cells[i])
    return cells


def status_csv_response(
    queryset: QuerySet | None = None,
    *,
    include_notes: bool = False,
    filename: str = "statuses.csv",
) -> StreamingHttpResponse:
    """A download of the statuses that starts at once and never buffers the file."""
    response = StreamingHttpResponse(
        status_csv_rows(queryset, include_notes=include_notes),
        content_type=CSV_CONTENT_TYPE,
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
