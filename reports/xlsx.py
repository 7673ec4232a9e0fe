"""Excel reports: compliance with the result agreements, and the laggards.

Every text cell passes `nupportal.exports.escape_cell`, so a municipality name or
a note that starts with "=" is shown as text, never evaluated. Scores are cells
rounded as the pages show them (one decimal, `nupportal.formats`), with the exact
value in the next column; dates are date cells. While NUP_DEMO_NOTICE is on,
every sheet ends with a column saying the statuses are synthetic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import IO, Any

from django.utils.translation import gettext as _

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from nupportal.exports import (
    demo_notice,
    demo_notice_header,
    escape_cell,
    xlsx_number_format,
)
from nupportal.formats import display_value
from reports import queries
from scoring.models import ComplianceStatus

Progress = Callable[[int], None]
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique sheet title (≤ 31 characters, no []:*?/\\)."""
    base = _SHEET_FORBIDDEN.sub("-", name)[:31] or "-"
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def write_table(
    sheet: Worksheet,
    header: list[str],
    rows: Iterable[list[Any]],
    *,
    widths: list[int] | None = None,
    decimals: dict[int, int] | None = None,
) -> int:
    """Header in bold, frozen, with an auto-filter over the whole table.

    `decimals`: column index → the decimals its numbers are rounded to (their
    number format); dates get the date format.
    """
    notice = demo_notice()
    header = [*header, demo_notice_header()] if notice else header
    sheet.append([escape_cell(str(h)) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    decimals = decimals or {}
    count = 0
    for row in rows:
        values = [*row, notice] if notice else list(row)
        sheet.append([escape_cell(v) for v in values])
        count += 1
        for i, cell in enumerate(sheet[count + 1]):
            number_format = xlsx_number_format(cell.value, decimals.get(i))
            if number_format:
                cell.number_format = number_format
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(header))
    sheet.auto_filter.ref = f"A1:{last}{count + 1}"
    for i, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    return count


def _status_text(status: str | None) -> str:
    if not status:
        return _("not computed")
    return str(ComplianceStatus(status).label)


def _municipality_header() -> list[str]:
    """The first columns of a row per municipality: who it is and its score."""
    return [
        _("CBS code"),
        _("Municipality"),
        _("Province"),
        _("Size class"),
        _("Adoption score"),
        _("Adoption score (exact)"),
    ]


# Column widths of those first columns.
MUNICIPALITY_WIDTHS = [10, 28, 16, 14, 10, 10]


def _municipality_cells(municipality, score: float | None) -> list[Any]:
    """The cells under `_municipality_header`: the score rounded, then exact."""
    return [
        municipality.cbs_code,
        municipality.name,
        municipality.province.name,
        municipality.get_size_class_display(),
        display_value(score, 1),
        score,
    ]


def compliance_workbook(report, out: IO[bytes], progress: Progress) -> None:
    """A national sheet, one sheet per province, and the agreements with deadlines."""
    data = queries.compliance_data()
    progress(10)
    header = [
        *_municipality_header(),
        *[
            _("%(number)s. %(title)s (deadline %(deadline)s)")
            % {
                "number": a.number,
                "title": a.title,
                "deadline": a.deadline.isoformat(),
            }
            for a in data.agreements
        ],
        _("Met"),
        _("At risk"),
        _("Overdue"),
        _("Method version"),
    ]
    widths = [*MUNICIPALITY_WIDTHS, *[22] * len(data.agreements), 8, 8, 8, 8]

    def row(m) -> list[Any]:
        statuses = [data.statuses.get((m.pk, a.pk)) for a in data.agreements]
        score = data.scores.get(m.pk)
        return [
            *_municipality_cells(m, score),
            *[_status_text(s) for s in statuses],
            statuses.count(ComplianceStatus.MET),
            statuses.count(ComplianceStatus.AT_RISK),
            statuses.count(ComplianceStatus.OVERDUE),
            data.method_versions.get(m.pk, ""),
        ]

    workbook = Workbook()
    used: set[str] = set()
    national = workbook.active
    national.title = sheet_title(_("Netherlands"), used)
    score_decimals = {4: 1}
    write_table(
        national,
        header,
        (row(m) for m in data.municipalities),
        widths=widths,
        decimals=score_decimals,
    )
    progress(40)

    by_province: dict[str, list] = {}
    for m in data.municipalities:
        by_province.setdefault(m.province.name, []).append(m)
    for i, (province, members) in enumerate(sorted(by_province.items()), start=1):
        sheet = workbook.create_sheet(sheet_title(province, used))
        write_table(
            sheet,
            header,
            (row(m) for m in members),
            widths=widths,
            decimals=score_decimals,
        )
        progress(40 + 40 * i // max(1, len(by_province)))

    sheet = workbook.create_sheet(sheet_title(_("Result agreements"), used))
    write_table(
        sheet,
        [
            _("Number"),
            _("Result agreement"),
            _("Original deadline"),
            _("Current deadline"),
            _("Deadline is the programme end"),
            _("Postponements"),
            *[str(s.label) for s in ComplianceStatus],
        ],
        (
            [
                a.number,
                a.title,
                a.original_deadline,
                a.deadline,
                _("yes") if a.deadline_is_reference else _("no"),
                "; ".join(
                    _("%(old)s → %(new)s (decided %(decided)s: %(reason)s)")
                    % {
                        "old": r.old_deadline.isoformat(),
                        "new": r.new_deadline.isoformat(),
                        "decided": r.decided_on.isoformat(),
                        "reason": r.reason,
                    }
                    for r in data.revisions.get(a.pk, [])
                ),
                *[
                    sum(
                        1
                        for m in data.municipalities
                        if data.statuses.get((m.pk, a.pk)) == status
                    )
                    for status in ComplianceStatus
                ],
            ]
            for a in data.agreements
        ),
        widths=[8, 50, 14, 14, 12, 60, 10, 10, 10, 10],
    )
    progress(90)
    workbook.save(out)


def laggards_workbook(report, out: IO[bytes], progress: Progress) -> None:
    """One row per municipality × agreement at risk or overdue, with what is missing."""
    laggards = queries.laggards()
    progress(40)
    workbook = Workbook()
    used: set[str] = set()
    summary = workbook.active
    summary.title = sheet_title(_("Laggards"), used)
    write_table(
        summary,
        [
            *_municipality_header(),
            _("Agreements overdue"),
            _("Agreements at risk"),
            _("Editors' e-mail"),
        ],
        (
            [
                *_municipality_cells(lag.municipality, lag.score),
                sum(s == ComplianceStatus.OVERDUE for _a, s, _m in lag.agreements),
                sum(s == ComplianceStatus.AT_RISK for _a, s, _m in lag.agreements),
                "; ".join(lag.emails),
            ]
            for lag in laggards
        ),
        widths=[*MUNICIPALITY_WIDTHS, 10, 10, 50],
        decimals={4: 1},
    )
    progress(60)
    detail = workbook.create_sheet(sheet_title(_("What is missing"), used))
    write_table(
        detail,
        [
            _("CBS code"),
            _("Municipality"),
            _("Result agreement"),
            _("Status"),
            _("Deadline"),
            _("Building block"),
            _("Level now"),
            _("Minimum level"),
            _("Planned date"),
            _("Editors' e-mail"),
        ],
        (
            [
                lag.municipality.cbs_code,
                lag.municipality.name,
                f"{agreement.number}. {agreement.title}",
                _status_text(status),
                agreement.deadline,
                block.name,
                queries.level_text(level),
                queries.level_text(minimum),
                planned,
                "; ".join(lag.emails),
            ]
            for lag in laggards
            for agreement, status, missing in lag.agreements
            for block, level, minimum, planned in missing
        ),
        widths=[10, 28, 40, 12, 12, 28, 16, 16, 12, 50],
    )
    progress(90)
    workbook.save(out)
