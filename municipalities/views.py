"""Views of the municipalities app: the list, the scorecard, the matrix and the provinces."""

from __future__ import annotations

import datetime
import re
from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import F
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, TemplateView

from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from buildingblocks.levels import Category, Level
from buildingblocks.models import AdoptionStatus, BuildingBlock
from municipalities import provinces, queries, scorecard
from municipalities.columns import ColumnChoiceMixin, table_column_set
from municipalities.filters import MatrixFilterSet, MunicipalityFilterSet
from municipalities.forms import TableOptionsForm
from municipalities.models import CBS_CODE_REGEX, Municipality, Province
from municipalities.permissions import can_edit_municipality, can_see_notes
from municipalities.tables import (
    MunicipalityTable,
    ProvinceAgreementTable,
    ProvinceBlockTable,
    ProvinceMunicipalityTable,
    ProvinceSizeClassTable,
    ProvinceTable,
)
from nupportal.columns import (
    Column,
    ColumnSet,
)
from nupportal.exports import SafeExportMixin
from nupportal.pagination import paginate
from nupportal.templatetags.portal import localized_attr
from scoring import projections, timetravel
from scoring import queries as scoring_queries
from scoring.charts import Series, line_chart
from scoring.dashboards import (
    benchmark_spread_chart,
    grouped_scores,
    province_spread_chart,
)
from scoring.models import ComplianceStatus, Measure, MunicipalityScore, Scope


class TableOptionsMixin:
    """Reads ?per_page= through a form, so a bad value is reported instead of failing."""

    default_per_page = 50

    def get_options_form(self) -> TableOptionsForm:
        if not hasattr(self, "_options_form"):
            data = self.request.GET if "per_page" in self.request.GET else None
            self._options_form = TableOptionsForm(
                data, default_per_page=self.default_per_page
            )
        return self._options_form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["options_form"] = self.get_options_form()
        return context


class MunicipalityListView(
    SafeExportMixin,
    TableOptionsMixin,
    ColumnChoiceMixin,
    timetravel.PastDateTableMixin,
    SingleTableMixin,
    FilterView,
):
    """/gemeenten/: every active municipality, filtered, sorted, paginated, exportable."""

    table_class = MunicipalityTable
    filterset_class = MunicipalityFilterSet
    template_name = "municipalities/municipality_list.html"
    export_name = _("municipalities")
    column_table = "municipalities"

    def get_column_set(self) -> ColumnSet:
        # What fits at 1280 px beside the filters; the CBS code, population and
        # size class are one click away.
        return table_column_set(
            MunicipalityTable,
            default=(
                "name",
                "province",
                "adoption_score",
                "agreements_met",
                "agreements_at_risk",
                "agreements_overdue",
                "last_status_update",
            ),
            required=("name",),
        )

    def get_table_kwargs(self) -> dict:
        # Hidden columns are left out of the table, so the download has the
        # columns of the page.
        return {**super().get_table_kwargs(), "exclude": self.hidden_columns()}

    def get_queryset(self):
        on = timetravel.requested(self.request)
        return (
            queries.municipality_rows()
            if on is None
            else timetravel.municipalities_on(on)
        )

    def get_filterset_kwargs(self, filterset_class):
        return super().get_filterset_kwargs(filterset_class) | {
            "on": timetravel.requested(self.request)
        }

    def rows_on(self, on: datetime.date) -> list[Municipality]:
        if not self.filterset.is_valid():
            return []
        # The municipalities of that day, with that day's figures in the columns
        # the table reads (one replay for all of them).
        reconstruction = timetravel.standings_of_request(self.request)
        rows = []
        for municipality, standing in self.filterset.matches(
            self.object_list, reconstruction.standings
        ):
            municipality.adoption_score = standing.score
            municipality.agreements_met = standing.count(ComplianceStatus.MET)
            municipality.agreements_at_risk = standing.count(ComplianceStatus.AT_RISK)
            municipality.agreements_overdue = standing.count(ComplianceStatus.OVERDUE)
            municipality.last_status_update = None
            rows.append(municipality)
        return rows

    def get_table(self, **kwargs):
        table = self.get_table_class()(data=self.get_table_data(), **kwargs)
        # Sorting from the URL; pagination below, with a validated page size.
        RequestConfig(self.request, paginate=False).configure(table)
        if not self.is_export_request():
            per_page = self.get_options_form().rows_per_page()
            table.paginator, table.page = paginate(
                table.rows, per_page, self.request.GET.get("page")
            )
        return table


def _redirect_cbs_code(request: HttpRequest, code: str) -> HttpResponse:
    municipality = get_object_or_404(Municipality, cbs_code=code.upper())
    return HttpResponsePermanentRedirect(municipality.get_absolute_url())


class MunicipalityDetailView(DetailView):
    """/gemeenten/<slug>/: the scorecard of one municipality."""

    model = Municipality

    def get(self, request, *args, **kwargs):
        # A CBS code (GM0394) is a permanent alias of the slug URL.
        if re.fullmatch(CBS_CODE_REGEX, kwargs["slug"].upper()):
            return _redirect_cbs_code(request, kwargs["slug"])
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return Municipality.objects.select_related("province", "score", "successor")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        municipality = self.object
        user = self.request.user
        on = timetravel.requested(self.request)
        try:
            score = municipality.score
        except MunicipalityScore.DoesNotExist:
            score = None

        # One query for the versions: the blocks counted on the page's day.
        versions = queries.BlockVersions()
        blocks = versions.blocks_on(on or timezone.localdate())
        history = queries.municipality_history(municipality)
        former = not municipality.active
        end_date = queries.last_day_of(municipality)
        agreements = list(queries.agreements_for(municipality))
        figures = None
        past = None
        if on is not None:
            past = PastScorecard.of(municipality, on, agreements)
            score = past.score
            figures = timetravel.figures(on)
            # On a past date the page shows that day, also of a former municipality.
            former = False
            statuses = queries.final_states(history, on)
        elif former:
            # A former municipality has no current statuses: its page shows how it
            # stood on its last day, from its history.
            statuses = queries.final_states(history, end_date)
        else:
            statuses = {
                status.block_id: status
                for status in AdoptionStatus.objects.filter(municipality=municipality)
            }
        shares = queries.in_use_shares(municipality, figures)
        groups: OrderedDict[str, list] = OrderedDict(
            (value, []) for value in Category.values
        )
        for block in blocks:
            status = statuses.get(block.pk)
            block_shares = shares.get(block.pk, {})
            groups.setdefault(block.category, []).append(
                {
                    "block": block,
                    "status": status,
                    "level": status.level if status else Level.NOT_STARTED,
                    "national": block_shares.get(Scope.NATIONAL),
                    "size_class": block_shares.get(Scope.SIZE_CLASS),
                    "province": block_shares.get(Scope.PROVINCE),
                }
            )
        categories = [
            {
                "label": Category(value).label if value in Category.values else value,
                "rows": rows,
            }
            for value, rows in groups.items()
            if rows
        ]
        weights = {block.pk: block.weight for block in blocks}
        trend = (
            queries.municipality_trend(municipality, history, versions=versions)
            if past is None
            else queries.municipality_trend(
                municipality,
                history,
                until=on,
                score_on_until=past.score.score if past.score else None,
                versions=versions,
            )
        )
        successors, predecessors = queries.merger_links(municipality)
        trend_chart = line_chart(
            chart_id="score-trend",
            caption=gettext("Adoption score of %(name)s by month")
            % {"name": municipality.name},
            summary=gettext(
                "The score rebuilt from the history of status changes, 0 to 100."
            ),
            series=[
                Series(
                    municipality.name,
                    [(p.month, p.score) for p in trend if p.score is not None],
                )
            ],
        )
        if not former and on is None:
            # "Will miss the deadline": its own plans, or the pace of its size
            # class (one query for the class's compliance history). Today only:
            # a forecast made on a past date is not what the page shows then.
            projections.flag_misses(
                agreements, municipality.size_class, timezone.localdate()
            )
        means = (
            None
            if figures is None
            else _means(
                queries.comparison_figures(municipality, figures, Measure.MEAN_SCORE)
            )
        )
        inputs = scorecard.load_inputs(
            municipality, blocks, statuses.values(), agreements, means
        )
        compare = timetravel.compare_of_request(self.request)
        if compare.on is not None:
            # The change of the comparison shares since that date, in points.
            then = queries.in_use_shares(
                municipality,
                timetravel.figures(
                    None if compare.on >= timezone.localdate() else compare.on
                ),
            )
            for category in categories:
                for row in category["rows"]:
                    before = then.get(row["block"].pk, {})
                    row["changes"] = {
                        key: timetravel.change(row[key], before.get(scope), scale=100)
                        for key, scope in (
                            ("size_class", Scope.SIZE_CLASS),
                            ("province", Scope.PROVINCE),
                            ("national", Scope.NATIONAL),
                        )
                    }
        # The spread chart and the "of N" of the rank: one query today, the
        # replay's scores on a past date.
        grouped = grouped_scores(on)
        context.update(
            score=score,
            ranked_count=(
                past.ranked_count
                if past
                else sum(r.ranked for r in grouped)
                if score and score.rank
                else None
            ),
            categories=categories,
            agreements=agreements,
            explanation=scorecard.explanation_rows(
                municipality, inputs, agreements, on=on
            ),
            spread_chart=None
            if former
            else benchmark_spread_chart(
                municipality,
                score.score if score else None,
                grouped,
            ),
            trend_chart=trend_chart if trend else None,
            former=former,
            end_date=end_date if former else None,
            final_score=trend[-1].score if former and trend else None,
            successors=successors,
            predecessors=predecessors,
            show_notes=can_see_notes(user, municipality),
            scores_stale=bool(score)
            and past is None
            and not former
            and score.is_stale(
                max(
                    (
                        s.updated_at
                        for s in statuses.values()
                        if s.block_id in weights and s.updated_at
                    ),
                    default=None,
                )
            ),
            absent_on=on if past is not None and past.score is None else None,
            on=on,
            compare=compare.on,
            compare_error=compare.error,
            score_change=_score_change(municipality, score, compare.on, on),
            date_min=timetravel.PROGRAMME_START,
            date_max=timezone.localdate(),
            # Editing the statuses and requesting the scorecard PDF: the same people.
            can_edit=can_edit_municipality(user, municipality),
        )
        return context


def _matrix_on(
    on: datetime.date, municipalities, sort: str
) -> tuple[list[Municipality], dict[int, dict[int, str]]]:
    """The matrix's rows on a past date: that day's score and levels, sorted."""
    standings = timetravel.standings_on(on).standings
    rows = []
    for municipality in municipalities.order_by("name"):
        standing = standings.get(municipality.pk)
        if standing is None:
            continue
        municipality.adoption_score = standing.score
        rows.append(municipality)
    if sort.lstrip("-") == "score":
        scored = [m for m in rows if m.adoption_score is not None]
        scored.sort(key=lambda m: m.adoption_score, reverse=sort.startswith("-"))
        # A stable sort keeps the names in order within a score; unscored last.
        rows = scored + [m for m in rows if m.adoption_score is None]
    elif sort == "-name":
        rows.reverse()
    levels = {
        m.pk: {
            block_id: state.level for block_id, state in standings[m.pk].states.items()
        }
        for m in rows
    }
    return rows, levels


def _means(rows: list[tuple]) -> dict[str, float | None]:
    means: dict[str, float | None] = dict.fromkeys(
        (Scope.SIZE_CLASS, Scope.PROVINCE, Scope.NATIONAL)
    )
    means.update({scope: value for block_id, scope, value in rows if block_id is None})
    return means


@dataclass
class PastScore:
    """The scorecard's score row on a past date (scoring.timetravel.standings_on)."""

    score: float | None
    rank: int | None
    agreements_met: int = 0
    agreements_on_track: int = 0
    agreements_at_risk: int = 0
    agreements_overdue: int = 0
    agreements_not_applicable: int = 0
    agreements_exempted: int = 0
    computed_at: None = None
    # The replay runs today's scoring code, so its scores are of today's method.
    method_version: str = timetravel.REPLAY_METHOD_VERSION


@dataclass
class PastScorecard:
    score: PastScore | None
    ranked_count: int

    @classmethod
    def of(
        cls,
        municipality: Municipality,
        on: datetime.date,
        agreements: list,
    ) -> PastScorecard:
        """Score, rank and agreement statuses on `on`; sets them on `agreements`.

        Every municipality's standing is needed for the rank: one replay, a fixed
        number of queries.
        """
        reconstruction = timetravel.standings_on(on)
        ranks = timetravel.ranks(
            {m: s.score for m, s in reconstruction.standings.items()}
        )
        standing = reconstruction.standings.get(municipality.pk)
        for agreement in agreements:
            agreement.status = standing.statuses.get(agreement.pk) if standing else None
            agreement.reason = agreement.lapsed_on = None
            agreement.exempted = False
            agreement.deadline = reconstruction.deadlines.get(
                agreement.pk, agreement.deadline
            )
        if standing is None:
            return cls(None, len(ranks))
        return cls(
            PastScore(
                score=standing.score,
                rank=ranks.get(municipality.pk),
                agreements_met=standing.count(ComplianceStatus.MET),
                agreements_on_track=standing.count(ComplianceStatus.ON_TRACK),
                agreements_at_risk=standing.count(ComplianceStatus.AT_RISK),
                agreements_overdue=standing.count(ComplianceStatus.OVERDUE),
                agreements_not_applicable=standing.count(
                    ComplianceStatus.NOT_APPLICABLE
                ),
            ),
            len(ranks),
        )


def _score_change(
    municipality: Municipality,
    score,
    compare: datetime.date | None,
    on: datetime.date | None,
) -> str:
    """The score's change in points between the compare date and the date shown."""
    if compare is None or score is None or score.score is None:
        return ""
    if compare >= timezone.localdate():
        try:
            then = MunicipalityScore.objects.get(municipality=municipality).score
        except MunicipalityScore.DoesNotExist:
            return ""
    else:
        then = timetravel.scores_on(compare, [municipality.pk]).get(municipality.pk)
    return timetravel.change(score.score, then)


class WhatIfView(DetailView):
    """/gemeenten/<slug>/wat-als/: try levels and see score, rank and agreements.

    A GET form: nothing is saved, and the URL can be shared.
    """

    model = Municipality
    template_name = "municipalities/municipality_whatif.html"

    def get_queryset(self):
        return Municipality.objects.select_related("province", "score")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        municipality = self.object
        try:
            score = municipality.score
        except MunicipalityScore.DoesNotExist:
            score = None
        blocks = list(BuildingBlock.objects.filter(active=True))
        agreements = list(queries.agreements_for(municipality))
        inputs = scorecard.load_inputs(
            municipality,
            blocks,
            AdoptionStatus.objects.filter(municipality=municipality),
            agreements,
        )
        submitted = any(block.code in self.request.GET for block in blocks)
        form = scorecard.WhatIfForm(
            self.request.GET if submitted else None,
            blocks=blocks,
            current=inputs.states,
        )
        result = None
        if form.is_bound and form.is_valid():
            result = scorecard.explanation_rows(
                municipality, inputs, agreements, states=form.states()
            )
            rank, ranked = scorecard.rank_among_others(municipality, result["score"])
            result.update(
                rank=rank,
                ranked_count=ranked,
                changed=form.changed_blocks(),
                agreement_rows=[
                    {
                        "agreement": agreement,
                        "before": agreement.status,
                        "after": result["statuses"].get(agreement.pk),
                    }
                    for agreement in agreements
                ],
            )
        context.update(
            score=score,
            ranked_count=queries.ranked_count() if score and score.rank else None,
            form=form,
            result=result,
        )
        return context


# The block columns shown by default: what fits at 1280 px beside the name and
# the score (a cell says the level in words). The column chooser and the
# category filter show the others.
MATRIX_DEFAULT_BLOCKS = 9


class MatrixView(TableOptionsMixin, ColumnChoiceMixin, TemplateView):
    """/matrix/: municipalities × building blocks with the level in every cell.

    The columns are the score and the blocks the user chose (ColumnChoiceMixin);
    a category filter narrows them to that category's blocks, all of them when
    none of the chosen blocks is in it.
    """

    template_name = "municipalities/matrix.html"
    column_table = "matrix"
    sort_orders = {
        "name": ("name",),
        "-name": ("-name",),
        "score": (F("adoption_score").asc(nulls_last=True), "name"),
        "-score": (F("adoption_score").desc(nulls_last=True), "name"),
    }

    @cached_property
    def blocks(self) -> list[BuildingBlock]:
        return list(BuildingBlock.objects.filter(active=True))

    def get_column_set(self) -> ColumnSet:
        return ColumnSet(
            columns=(
                Column("score", gettext("Score")),
                *(
                    Column(block.code, localized_attr(block, "name"))
                    for block in self.blocks
                ),
            ),
            default=(
                "score",
                *(block.code for block in self.blocks[:MATRIX_DEFAULT_BLOCKS]),
            ),
        )

    def shown_blocks(self, category: str) -> list[BuildingBlock]:
        shown = set(self.shown_columns)
        chosen = [block for block in self.blocks if block.code in shown]
        if not category:
            return chosen
        in_category = [block for block in chosen if block.category == category]
        return in_category or [b for b in self.blocks if b.category == category]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        on = timetravel.requested(self.request)
        filterset = MatrixFilterSet(
            self.request.GET or None,
            queryset=queries.municipality_rows()
            if on is None
            else timetravel.municipalities_on(on),
        )
        sort = self.request.GET.get("sort", "name")
        if sort not in self.sort_orders:
            sort = "name"
        if filterset.is_bound and not filterset.is_valid():
            municipalities = filterset.queryset.none()
        elif on is None:
            municipalities = filterset.qs.order_by(*self.sort_orders[sort])
        else:
            municipalities, past_levels = _matrix_on(on, filterset.qs, sort)
        paginator, page = paginate(
            municipalities,
            self.get_options_form().rows_per_page(),
            self.request.GET.get("page"),
        )
        blocks = self.shown_blocks(filterset.block_category())
        levels = (
            queries.levels_by_municipality(m.pk for m in page.object_list)
            if on is None or not municipalities
            else past_levels
        )
        rows = [
            {
                "municipality": municipality,
                "cells": [
                    {
                        "block": block,
                        "level": levels[municipality.pk].get(
                            block.pk, Level.NOT_STARTED
                        ),
                    }
                    for block in blocks
                ],
            }
            for municipality in page.object_list
        ]
        query = self.request.GET.copy()
        query.pop("page", None)
        sort_query = query.copy()
        sort_query.pop("sort", None)
        context.update(
            filter=filterset,
            blocks=blocks,
            show_score="score" in self.shown_columns,
            column_count=1 + len(blocks) + ("score" in self.shown_columns),
            level_values=Level.values,
            rows=rows,
            page_obj=page,
            paginator=paginator,
            sort=sort,
            query_without_page=query.urlencode(),
            query_without_sort=sort_query.urlencode(),
        )
        return context


# --- the province dashboard ---------------------------------------------------------


class ProvinceListView(SafeExportMixin, SingleTableMixin, TemplateView):
    """/provincies/: the twelve provinces, their mean, median and spread of scores."""

    table_class = ProvinceTable
    table_pagination = False
    template_name = "municipalities/province_list.html"
    export_name = _("provinces")

    def get_table_data(self):
        self.scores = scoring_queries.scores_with_groups()
        self.provinces = provinces.provinces_with_counts()
        return provinces.province_rows(self.provinces, self.scores)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.is_export_request():
            context["spread_chart"] = province_spread_chart(self.scores, self.provinces)
        return context


class ProvinceDetailView(SafeExportMixin, TemplateView):
    """/provincies/<slug>/: one province against the country, every table exportable.

    `?_export=csv&tabel=bouwstenen` downloads one of the page's tables (TABLES);
    without `tabel` the municipalities.
    """

    template_name = "municipalities/province_detail.html"
    # URL value of ?tabel= → (table class, rows key, sort parameter prefix, file name)
    TABLES = {
        "gemeenten": (ProvinceMunicipalityTable, "municipalities", "", _("ranking")),
        "bouwstenen": (ProvinceBlockTable, "block_rows", "b-", _("building blocks")),
        "afspraken": (
            ProvinceAgreementTable,
            "agreement_rows",
            "a-",
            _("agreements"),
        ),
        "grootteklassen": (
            ProvinceSizeClassTable,
            "size_class_rows",
            "g-",
            _("size classes"),
        ),
    }

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.province = get_object_or_404(Province, slug=kwargs["slug"])
        return super().dispatch(request, *args, **kwargs)

    def table_key(self) -> str:
        key = self.request.GET.get("tabel", "")
        return key if key in self.TABLES else "gemeenten"

    @property
    def export_name(self) -> str:
        return f"{self.province.slug}-{self.TABLES[self.table_key()][3]}"

    def get_tables(self) -> dict:
        if not hasattr(self, "_tables"):
            self.rows = provinces.detail_rows(self.province)
            self._tables = {}
            for key, (table_class, rows_key, prefix, _name) in self.TABLES.items():
                table = table_class(self.rows[rows_key], prefix=prefix)
                RequestConfig(self.request, paginate=False).configure(table)
                self._tables[key] = table
        return self._tables

    def get_table_kwargs(self) -> dict:
        return {}

    def get_table(self, **kwargs):
        return self.get_tables()[self.table_key()]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tables = self.get_tables()
        context.update(province=self.province, tables=tables)
        if not self.is_export_request():
            context.update(provinces.detail_charts(self.province, self.rows))
        return context
