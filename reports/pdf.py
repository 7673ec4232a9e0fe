"""PDF reports from HTML with WeasyPrint: the progress report and a scorecard.

The PDF never fetches anything over the network: the print stylesheet is read
from disk, the charts and map are inline SVG, and the URL fetcher refuses every
URL that is not a file inside the reports' static folder.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, StatusChange
from municipalities import queries as municipality_queries
from municipalities import scorecard as explanation
from municipalities.models import Municipality
from nupportal.formats import format_number
from reports import progress as figures
from reports import queries
from scoring import projections
from scoring.models import (
    Aggregate,
    Measure,
    MunicipalityScore,
    Scope,
)

Progress = Callable[[int], None]
STATIC_DIR = Path(__file__).resolve().parent / "static" / "reports"
PRINT_CSS = STATIC_DIR / "print.css"
CHART_CSS = STATIC_DIR / "charts-print.css"


def refuse_network(url: str, *args, **kwargs):
    """WeasyPrint URL fetcher: only files in our static folder, nothing else."""
    from weasyprint.urls import default_url_fetcher

    if url.startswith("file://"):
        path = Path(url[len("file://") :]).resolve()
        if path.is_relative_to(STATIC_DIR):
            return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"Refused to fetch {url!r}: reports do not use the network.")


def render_pdf(html: str, out: IO[bytes]) -> None:
    from weasyprint import CSS, HTML

    HTML(
        string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=refuse_network
    ).write_pdf(out, stylesheets=[CSS(filename=str(PRINT_CSS))])


def with_print_style(svg: str) -> SafeString:
    """The SVG with the chart text sizes for print inside it.

    WeasyPrint styles an inline SVG only with the <style> elements in it, not
    with the document's stylesheets.
    """
    start, bracket, rest = str(svg).partition(">")
    # Ours and trusted; the comments go, the SVG needs only the rules.
    css = re.sub(r"/\*.*?\*/", "", CHART_CSS.read_text(encoding="utf-8"), flags=re.S)
    return mark_safe(f"{start}{bracket}<style>{css}</style>{rest}")  # noqa: S308


def _base_context() -> dict:
    return {
        "generated_at": timezone.localtime(),
        "demo_notice": settings.NUP_DEMO_NOTICE,
    }


# --- progress report ----------------------------------------------------------


def progress_report(report, out: IO[bytes], progress: Progress) -> None:
    reference = datetime.date.fromisoformat(report.parameters["reference_date"])
    comparison = datetime.date.fromisoformat(report.parameters["comparison_date"])
    ref = figures.Reference()
    progress(5)
    after = figures.figures_on(reference, ref)
    progress(25)
    before = figures.figures_on(comparison, ref)
    progress(45)
    municipalities = queries.municipalities_on(reference)
    changes = figures.changes_between(before, after, municipalities, ref)
    trend_points = []
    points = figures.checkpoints(comparison, reference)
    for i, day in enumerate(points):
        f = (
            after
            if day == reference
            else before
            if day == comparison
            else figures.figures_on(day, ref)
        )
        trend_points.append((day, f.mean_score, f.all_met, f.municipalities))
        progress(45 + 30 * (i + 1) // len(points))
    context = {
        **_base_context(),
        "reference": reference,
        "comparison": comparison,
        "after": after,
        "before": before,
        "blocks": [
            (
                b,
                before.blocks.get(b.pk, (None, None)),
                after.blocks.get(b.pk, (None, None)),
            )
            for b in ref.blocks
        ],
        "agreements": [
            (
                info,
                before.deadlines[info.agreement.pk],
                after.deadlines[info.agreement.pk],
                [
                    before.agreements.get(info.agreement.pk, {}).get(s, 0)
                    for s in _STATUSES
                ],
                [
                    after.agreements.get(info.agreement.pk, {}).get(s, 0)
                    for s in _STATUSES
                ],
                changes.agreements[info.agreement.pk],
            )
            for info in ref.agreements
        ],
        "statuses": [_status_label(s) for s in _STATUSES],
        "size_classes": _size_rows(before, after),
        "provinces": [
            (name, count, score, before.provinces.get(name, (0, None))[1])
            for name, (count, score) in after.provinces.items()
        ],
        "changes": changes,
        "transitions": [
            (
                b,
                [
                    ((queries.level_text(old), queries.level_text(new)), count)
                    for (old, new), count in sorted(
                        changes.transitions[b.pk].items(), key=lambda kv: -kv[1]
                    )
                ],
            )
            for b in ref.blocks
            if changes.transitions[b.pk]
        ],
        "trend": trend_points,
        "charts": _charts(ref, before, after, trend_points),
        "map": _map(after, municipalities),
        "sources": _sources(ref),
    }
    html = render_to_string("reports/pdf/progress.html", context)
    progress(85)
    render_pdf(html, out)


_STATUSES = ("met", "on_track", "at_risk", "overdue")


def _status_label(status: str) -> str:
    from scoring.models import ComplianceStatus

    return str(ComplianceStatus(status).label)


def _size_rows(before, after) -> list:
    from municipalities.sizeclasses import SizeClass

    return [
        (
            str(SizeClass(key).label),
            after.size_classes.get(key, (0, None))[0],
            before.size_classes.get(key, (0, None))[1],
            after.size_classes.get(key, (0, None))[1],
        )
        for key in SizeClass.values
        if key in after.size_classes or key in before.size_classes
    ]


def _charts(ref, before, after, trend_points) -> list:
    """SVG charts from scoring.charts (when that module is available)."""
    try:
        from scoring import charts
    except ImportError:  # pragma: no cover - charts are optional in the PDF
        return []
    result = [
        charts.grouped_bar_chart(
            chart_id="chart-blocks",
            caption=_("Share of municipalities using each building block"),
            summary=_(
                "Per building block, on the comparison date and the reference date."
            ),
            groups=[
                charts.Group(
                    b.name,
                    [
                        _pct(before.blocks.get(b.pk, (None,))[0]),
                        _pct(after.blocks.get(b.pk, (None,))[0]),
                    ],
                )
                for b in ref.blocks
            ],
            series=[before.day.isoformat(), after.day.isoformat()],
            label_header=_("Building block"),
        )
    ]
    series = [
        charts.Series(
            _("Mean adoption score"),
            [(d, s) for d, s, _m, _n in trend_points if s is not None],
        ),
        charts.Series(
            _("Municipalities meeting every agreement (%)"),
            [(d, 100.0 * m / n) for d, _s, m, n in trend_points if n],
        ),
    ]
    if any(s.points for s in series):
        result.append(
            charts.line_chart(
                chart_id="chart-trend",
                caption=_("Trend between the two dates"),
                summary=_(
                    "Mean adoption score and share of municipalities meeting every agreement, per quarter."
                ),
                series=series,
            )
        )
    for chart in result:
        chart.svg = with_print_style(chart.svg)
    return result


def _pct(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


def _map(after, municipalities) -> object | None:
    try:
        from scoring import maps
    except ImportError:  # pragma: no cover
        return None
    areas = [
        maps.MapArea(
            name=m["name"],
            url="#",
            path=m["map_path"],
            class_key=maps.score_class(after.scores.get(m["id"])),
            value_text=_fmt(after.scores.get(m["id"])),
        )
        for m in municipalities
        if m["map_path"]
    ]
    if not areas:
        return None
    return maps.build_figure(
        map_id="map-score",
        caption=_("Adoption score per municipality on %(day)s")
        % {"day": after.day.isoformat()},
        summary=_("Darker means a higher adoption score."),
        value_header=_("Adoption score"),
        areas=areas,
        classes=maps.score_classes(),
    )


def _fmt(value: float | None) -> str:
    return "–" if value is None else format_number(value, 0)


def _sources(ref) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for b in ref.blocks:
        if b.source:
            seen.setdefault(b.source, b.name)
    for info in ref.agreements:
        if info.agreement.source:
            seen.setdefault(info.agreement.source, str(info.agreement))
    return sorted(((name, url) for url, name in seen.items()), key=lambda t: t[0])


# --- scorecard ----------------------------------------------------------------


def scorecard(report, out: IO[bytes], progress: Progress) -> None:
    from reports.generate import ReportError

    municipality = (
        Municipality.objects.select_related("province", "successor")
        .filter(pk=report.parameters.get("municipality"))
        .first()
    )
    if municipality is None:
        raise ReportError(_("The municipality of this scorecard no longer exists."))
    progress(10)
    blocks = queries.blocks()
    statuses = {
        s.block_id: s for s in AdoptionStatus.objects.filter(municipality=municipality)
    }
    score = MunicipalityScore.objects.filter(municipality=municipality).first()
    # Annotated with the municipality's status, as on the scorecard page.
    agreements = list(municipality_queries.agreements_for(municipality))
    if municipality.active:
        # "Will miss the deadline": the scorecard page's forecast (one query).
        projections.flag_misses(
            agreements, municipality.size_class, timezone.localdate()
        )
    benchmarks = {
        (a.scope, a.key): a.value
        for a in Aggregate.objects.filter(
            measure=Measure.MEAN_SCORE,
            block__isnull=True,
            agreement__isnull=True,
        ).filter(
            scope__in=[Scope.NATIONAL, Scope.SIZE_CLASS, Scope.PROVINCE],
        )
    }
    history = list(
        StatusChange.objects.filter(municipality=municipality)
        .select_related("block", "changed_by")
        .order_by("-changed_at", "-id")[:30]
    )
    progress(40)
    context = {
        **_base_context(),
        "municipality": municipality,
        "score": score,
        "rows": [
            (
                b,
                statuses.get(b.pk),
                queries.level_text(statuses[b.pk].level)
                if b.pk in statuses
                else queries.level_text(Level.NOT_STARTED),
                statuses[b.pk].level if b.pk in statuses else Level.NOT_STARTED,
            )
            for b in blocks
        ],
        "agreements": [
            (
                a,
                a.status,
                _status_label(a.status) if a.status else _("not computed"),
            )
            for a in agreements
        ],
        "benchmarks": [
            (_("Netherlands"), benchmarks.get((Scope.NATIONAL, ""))),
            (
                municipality.get_size_class_display(),
                benchmarks.get((Scope.SIZE_CLASS, municipality.size_class)),
            ),
            (
                municipality.province.name,
                benchmarks.get((Scope.PROVINCE, municipality.province.slug)),
            ),
        ],
        "history": history,
        # The same explanation as the scorecard page (issue 16).
        "explanation": explanation.explanation_rows(
            municipality,
            explanation.load_inputs(
                municipality, blocks, statuses.values(), agreements
            ),
            agreements,
        ),
    }
    html = render_to_string("reports/pdf/scorecard.html", context)
    progress(70)
    render_pdf(html, out)
