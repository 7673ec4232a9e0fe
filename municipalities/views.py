"""Views of the municipalities app: the list, the scorecard, the matrix and the provinces."""

from __future__ import annotations

import re
from collections import OrderedDict

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
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
from municipalities.templatetags.portal import localized_attr
from nupportal.columns import (
    Column,
    ColumnSet,
)
from nupportal.exports import SafeExportMixin
from scoring import projections
from scoring import queries as scoring_queries
from scoring.charts import Series, line_chart
from scoring.dashboards import benchmark_spread_chart, province_spread_chart
from scoring.models import MunicipalityScore, Scope


def page_of(paginator: Paginator, number: str | None):
    """The requested page; the first for nonsense, the last past the end."""
    try:
        return paginator.page(number or 1)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


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
    SafeExportMixin, TableOptionsMixin, ColumnChoiceMixin, SingleTableMixin, FilterView
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
        return queries.municipality_rows()

    def get_table(self, **kwargs):
        table = self.get_table_class()(data=self.get_table_data(), **kwargs)
        # Sorting from the URL; pagination below, with a validated page size.
        RequestConfig(self.request, paginate=False).configure(table)
        if not self.is_export_request():
            per_page = self.get_options_form().rows_per_page()
            table.paginator = Paginator(table.rows, per_page)
            table.page = page_of(table.paginator, self.request.GET.get("page"))
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
        try:
            score = municipality.score
        except MunicipalityScore.DoesNotExist:
            score = None

        # One query for the versions: today's blocks and each month's weights.
        versions = queries.BlockVersions()
        blocks = versions.blocks_on(timezone.localdate())
        history = queries.municipality_history(municipality)
        former = not municipality.active
        end_date = queries.last_day_of(municipality)
        # A former municipality has no current statuses: its page shows how it
        # stood on its last day, from its history.
        statuses = (
            queries.final_states(history, end_date)
            if former
            else {
                status.block_id: status
                for status in AdoptionStatus.objects.filter(municipality=municipality)
            }
        )
        shares = queries.in_use_shares(municipality)
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
        # Each month with the weights in force at its end (versioned, issue 14).
        trend = queries.municipality_trend(municipality, versions.weights_on, history)
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
        agreements = list(queries.agreements_for(municipality))
        if not former:
            # "Will miss the deadline": its own plans, or the pace of its size
            # class (one query for the class's compliance history).
            projections.flag_misses(
                agreements, municipality.size_class, timezone.localdate()
            )
        inputs = scorecard.load_inputs(
            municipality, blocks, statuses.values(), agreements
        )
        # One query for the spread chart and the "of N" of the rank.
        grouped = scoring_queries.scores_with_groups()
        context.update(
            score=score,
            ranked_count=sum(r.ranked for r in grouped)
            if score and score.rank
            else None,
            categories=categories,
            agreements=agreements,
            explanation=scorecard.explanation_rows(municipality, inputs, agreements),
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
            # Editing the statuses and requesting the scorecard PDF: the same people.
            can_edit=can_edit_municipality(user, municipality),
        )
        return context


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
        filterset = MatrixFilterSet(
            self.request.GET or None, queryset=queries.municipality_rows()
        )
        sort = self.request.GET.get("sort", "name")
        if sort not in self.sort_orders:
            sort = "name"
        if filterset.is_bound and not filterset.is_valid():
            municipalities = filterset.queryset.none()
        else:
            municipalities = filterset.qs.order_by(*self.sort_orders[sort])
        paginator = Paginator(municipalities, self.get_options_form().rows_per_page())
        page = page_of(paginator, self.request.GET.get("page"))
        blocks = self.shown_blocks(filterset.block_category())
        levels = queries.levels_by_municipality(m.pk for m in page.object_list)
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
