"""The full export: every status and the whole history, at any size.

Constant memory: rows come from the database with `values_list().iterator()` in
chunks (server-side cursors on PostgreSQL) and go straight to the output file.

- CSV: one file, two kinds of rows told apart by the first column, `record_type`:
  first every current status (``status``), then every history entry
  (``change``). One file keeps the download simple and both kinds share the
  columns that identify a status; the columns that only one kind uses are empty
  for the other. Filter on `record_type` in a spreadsheet to separate them.
- XLSX: the same data on two sheets, "Statuses" and "History" (openpyxl's
  write-only mode, which streams rows to disk), dates and times as real cells.

Both follow the portal's export rules (nupportal.exports): the CSV dialect for
Dutch Excel, escaped formulas, and a last column saying the statuses are
synthetic while NUP_DEMO_NOTICE is on.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.utils.translation import gettext as _

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from buildingblocks.models import AdoptionStatus, StatusChange
from nupportal.exports import (
    CSV_ENCODING,
    csv_cell,
    csv_writer,
    demo_notice,
    demo_notice_header,
    xlsx_cell,
    xlsx_header,
)

Progress = Callable[[int], None]
CHUNK = 2000

CSV_COLUMNS = (
    "record_type",
    "cbs_code",
    "municipality",
    "building_block",
    "level",
    "planned_date",
    "achieved_date",
    "note",
    "evidence_url",
    "version",
    "changed_by",
    "changed_at",
    "source",
    "batch_id",
    "from_level",
    "from_planned_date",
    "from_achieved_date",
)
STATUS_COLUMNS = (
    "municipality__cbs_code",
    "municipality__name",
    "block__code",
    "level",
    "planned_date",
    "achieved_date",
    "note",
    "evidence_url",
    "version",
    "updated_by__username",
    "updated_at",
)
CHANGE_COLUMNS = (
    "municipality__cbs_code",
    "municipality__name",
    "block__code",
    "to_level",
    "to_planned_date",
    "to_achieved_date",
    "note",
    "changed_by__username",
    "changed_at",
    "source",
    "batch_id",
    "from_level",
    "from_planned_date",
    "from_achieved_date",
)


def _with_notice(values: list[Any], notice: str | None) -> list[Any]:
    return [*values, notice] if notice else values


def status_rows() -> Iterator[tuple]:
    return (
        AdoptionStatus.objects.order_by("municipality__cbs_code", "block__order", "id")
        .values_list(*STATUS_COLUMNS)
        .iterator(chunk_size=CHUNK)
    )


def change_rows() -> Iterator[tuple]:
    return (
        StatusChange.objects.order_by("changed_at", "id")
        .values_list(*CHANGE_COLUMNS)
        .iterator(chunk_size=CHUNK)
    )


def _as_csv_status(row: tuple) -> list[Any]:
    cbs, name, block, level, planned, achieved, note, url, version, user, at = row
    return ["status", cbs, name, block, level, planned, achieved, note, url, version,
            user, at, "", "", "", "", ""]  # fmt: skip


def _as_csv_change(row: tuple) -> list[Any]:
    (cbs, name, block, level, planned, achieved, note, user, at, source, batch,
     from_level, from_planned, from_achieved) = row  # fmt: skip
    return ["change", cbs, name, block, level, planned, achieved, note, "", "",
            user, at, source, batch, from_level, from_planned, from_achieved]  # fmt: skip


class _Ticker:
    """Reports progress between `start` and `end` percent as rows go by."""

    def __init__(self, progress: Progress, total: int, start: int, end: int):
        self.progress, self.total, self.start, self.end = progress, total, start, end
        self.count = 0
        self.every = max(1, total // 20)

    def tick(self) -> None:
        self.count += 1
        if self.count % self.every == 0 and self.total:
            self.progress(
                self.start + (self.end - self.start) * self.count // self.total
            )


def full_csv(report, out: IO[bytes], progress: Progress) -> None:
    statuses = AdoptionStatus.objects.count()
    changes = StatusChange.objects.count()
    total = statuses + changes
    progress(2)
    # utf-8-sig: Excel recognises UTF-8 only with the byte-order mark.
    text = io.TextIOWrapper(out, encoding=CSV_ENCODING, newline="", write_through=False)
    writer = csv_writer(text)
    notice = demo_notice()
    header = [*CSV_COLUMNS, "data"] if notice else list(CSV_COLUMNS)
    writer.writerow(header)
    ticker = _Ticker(progress, total, 2, 98)
    for row in status_rows():
        writer.writerow(
            _with_notice([csv_cell(v) for v in _as_csv_status(row)], notice)
        )
        ticker.tick()
    for row in change_rows():
        writer.writerow(
            _with_notice([csv_cell(v) for v in _as_csv_change(row)], notice)
        )
        ticker.tick()
    text.flush()
    text.detach()  # leave `out` open for the caller


def full_xlsx(report, out: IO[bytes], progress: Progress) -> None:
    total = AdoptionStatus.objects.count() + StatusChange.objects.count()
    progress(2)
    workbook = Workbook(write_only=True)
    ticker = _Ticker(progress, total, 2, 95)
    notice = demo_notice()

    statuses = workbook.create_sheet(_("Statuses"))
    statuses.freeze_panes = "A2"
    names = _with_notice(list(CSV_COLUMNS[1:12]), notice and demo_notice_header())
    xlsx_header(statuses, names)
    count = 0
    for row in status_rows():
        values = _with_notice(list(_as_csv_status(row)[1:12]), notice)
        statuses.append([xlsx_cell(statuses, v) for v in values])
        count += 1
        ticker.tick()
    statuses.auto_filter.ref = f"A1:{get_column_letter(len(names))}{count + 1}"

    history = workbook.create_sheet(_("History"))
    history.freeze_panes = "A2"
    names = [c for c in CSV_COLUMNS[1:] if c not in ("version", "evidence_url")]
    names = _with_notice(names, notice and demo_notice_header())
    xlsx_header(history, names)
    count = 0
    for row in change_rows():
        values = _as_csv_change(row)[1:]
        del values[7:9]  # evidence_url, version: not in the history
        history.append([xlsx_cell(history, v) for v in _with_notice(values, notice)])
        count += 1
        ticker.tick()
    history.auto_filter.ref = f"A1:{get_column_letter(len(names))}{count + 1}"
    workbook.save(out)
