"""The open data API (issue 17): read-only resources under /api/v1.

Each view validates its query parameters with a serializer (400 problem on
bad input), builds plain dicts in a fixed number of queries, and passes them
through its response serializer. `peildatum` switches every figure to the
state at the end of that day (scoring.timetravel).
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections import defaultdict
from typing import Any

from django.core.paginator import EmptyPage, Paginator
from django.db.models import Count, F, Prefetch
from django.http import HttpRequest, HttpResponseNotModified
from django.shortcuts import get_object_or_404
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes
from rest_framework import exceptions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agreements.models import Requirement, ResultAgreement
from api import serializers as s
from api.filters import ApiMunicipalityFilterSet
from api.renderers import CSVRenderer
from api.schema import ApiSchema
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, BuildingBlock
from municipalities import queries
from municipalities.models import CBS_CODE_REGEX, Municipality
from municipalities.permissions import can_see_notes
from scoring import rules, timetravel
from scoring.figures import FigureRow
from scoring.models import (
    AgreementCompliance,
    ComplianceStatus,
    Measure,
    Scope,
    Snapshot,
)
from scoring.version import data_version

AGREEMENT_NUMBER_MAX = 32767  # ResultAgreement.number is a PositiveSmallIntegerField

SCOPE_NAMES = {
    Scope.NATIONAL: "nederland",
    Scope.SIZE_CLASS: "grootteklasse",
    Scope.PROVINCE: "provincie",
}
SCOPES_BY_NAME = {name: scope for scope, name in SCOPE_NAMES.items()}


def params(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    """The validated query parameters; a 400 problem names the bad ones."""
    data = {key: request.query_params.get(key) for key in request.query_params}
    if data.pop("format", "json") not in ("json", "csv"):
        raise exceptions.ValidationError({"format": [_("Use json or csv.")]})
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    unknown = set(data) - set(serializer.fields)
    if unknown:
        raise exceptions.ValidationError(
            {name: [_("Unknown parameter.")] for name in sorted(unknown)}
        )
    return serializer.validated_data


def status_counts(counts: dict[str, int]) -> dict[str, int]:
    """One key per compliance status (the model's choices), zero when absent."""
    return {
        s.camel(status): counts.get(status, 0) for status in ComplianceStatus.values
    }


class ApiView(APIView):
    """One read-only resource: `params_class` validates the query (a 400 problem
    names the bad parameters), `data()` builds plain dicts, `response_class`
    shapes them. JSON, and CSV where the view names the key of its rows
    (`csv_rows`). The OpenAPI operation is read from these attributes (ApiSchema).
    """

    http_method_names = ["get", "head", "options"]
    schema = ApiSchema()
    operation_id: str
    summary: str
    params_class: type[serializers.Serializer] = s.ReferenceDateSerializer
    path_parameters: tuple[OpenApiParameter, ...] = ()
    response_class: type[serializers.Serializer]
    csv_rows: str | None = None

    def get_renderers(self) -> list:
        if self.csv_rows:
            return [JSONRenderer(), CSVRenderer()]
        return [JSONRenderer()]

    def get(self, request: Request, **kwargs) -> Response:
        data = self.data(request, params(self.params_class, request), **kwargs)
        return Response(self.response_class(data).data)

    def data(self, request: Request, p: dict, **kwargs) -> dict[str, Any]:
        raise NotImplementedError

    def options(self, request, *args, **kwargs):
        # No metadata body: OPTIONS says which methods there are (and CORS preflight).
        response = Response(status=204)
        response["Allow"] = "GET, HEAD, OPTIONS"
        return response


class ConditionalMixin:
    """ETag and If-None-Match on figures that change only with a recompute."""

    def etag(self, request: Request) -> str:
        key = repr(
            (
                data_version(),
                request.get_full_path(),
                request.META.get("HTTP_ACCEPT", ""),
                get_language(),
                request.user.is_authenticated,
            )
        )
        return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'

    def dispatch(self, request: HttpRequest, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            tag = self.etag(self.request)
            response["ETag"] = tag
            response["Cache-Control"] = "public, max-age=60"
            if tag in _tags(request.META.get("HTTP_IF_NONE_MATCH", "")):
                not_modified = HttpResponseNotModified()
                not_modified["ETag"] = tag
                return not_modified
        return response


def _tags(header: str) -> set[str]:
    return {
        part.strip().removeprefix("W/") for part in header.split(",") if part.strip()
    }


def _figures_by_scope(rows: list[FigureRow]) -> dict[tuple[str, str], dict[str, Any]]:
    """Figure rows grouped per (scope, key): plain values, per block, per agreement."""
    grouped: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "values": {},
            "blocks": defaultdict(dict),
            "agreements": defaultdict(dict),
        }
    )
    for scope, key, measure, block_id, agreement_id, status, value in rows:
        entry = grouped[(scope, key)]
        if block_id is not None:
            entry["blocks"][block_id][measure] = value
        elif agreement_id is not None:
            if measure == Measure.STATUS_COUNT:
                entry["agreements"][agreement_id].setdefault("counts", {})[status] = (
                    int(value or 0)
                )
            else:
                entry["agreements"][agreement_id][measure] = value
        else:
            entry["values"][measure] = value
    return grouped


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


# --- municipalities -------------------------------------------------------------------

SORTS = {
    "naam": ("name",),
    "-naam": ("-name",),
    "score": (F("adoption_score").asc(nulls_last=True), "name"),
    "-score": (F("adoption_score").desc(nulls_last=True), "name"),
    "inwoners": ("population", "name"),
    "-inwoners": ("-population", "name"),
}


def _sort_key(sort: str):
    descending = sort.startswith("-")
    field = sort.lstrip("-")

    def key(pair):
        municipality, standing = pair
        if field == "naam":
            return (municipality.name,)
        if field == "inwoners":
            value = municipality.population
            return (-value if descending else value, municipality.name)
        score = standing.score
        missing = score is None  # last in both directions, like the SQL
        return (
            missing,
            -(score or 0) if descending else (score or 0),
            municipality.name,
        )

    return key, descending and field == "naam"


def _municipality_url(request: Request, municipality: Municipality) -> str:
    return request.build_absolute_uri(f"/api/v1/gemeenten/{municipality.cbs_code}")


def _summary(
    request, municipality, score, rank, counts, method_version: str | None
) -> dict[str, Any]:
    return {
        "cbsCode": municipality.cbs_code,
        "name": municipality.name,
        "slug": municipality.slug,
        "province": municipality.province.slug,
        "provinceName": municipality.province.name,
        "sizeClass": municipality.size_class,
        "population": municipality.population,
        "adoptionScore": score,
        "rank": rank,
        "agreementStatusCounts": status_counts(counts),
        "methodVersion": method_version,
        "url": _municipality_url(request, municipality),
    }


def _page_links(request: Request, page, size: int) -> dict[str, Any]:
    def href(number: int) -> dict[str, str]:
        query = request.query_params.copy()
        query["pagina"] = str(number)
        query["paginaGrootte"] = str(size)
        return {
            "href": request.build_absolute_uri(request.path)
            + "?"
            + urlencode(query, doseq=True)
        }

    links = {
        "self": href(page.number),
        "first": href(1),
        "last": href(page.paginator.num_pages),
    }
    if page.has_previous():
        links["prev"] = href(page.previous_page_number())
    if page.has_next():
        links["next"] = href(page.next_page_number())
    return links


class MunicipalityListView(ApiView):
    """Municipalities with their score and agreement statuses, filtered as on /gemeenten/."""

    operation_id = "gemeenten_list"
    summary = "Municipalities"
    params_class = s.MunicipalityListParamsSerializer
    response_class = s.MunicipalityPageSerializer
    csv_rows = "results"

    def data(self, request: Request, p: dict) -> dict[str, Any]:
        on = p.get("peildatum")
        size = p.get("paginaGrootte", s.DEFAULT_PAGE_SIZE)
        sort = p.get("sorteer", "naam")
        base = (
            queries.municipality_rows()
            if on is None
            else timetravel.municipalities_on(on)
        )
        filterset = ApiMunicipalityFilterSet(p, on=on, queryset=base)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors_by_param())
        if on is None:
            paginator = Paginator(filterset.qs.order_by(*SORTS[sort]), size)
            page = self._page(paginator, p)
            municipalities = list(page.object_list)
            counts = self._compliance_counts(m.pk for m in municipalities)
            results = [
                _summary(
                    request,
                    m,
                    m.adoption_score,
                    m.score_rank,
                    counts[m.pk],
                    m.method_version,
                )
                for m in municipalities
            ]
        else:
            reconstruction = timetravel.standings_on(on)
            pairs = filterset.matches(filterset.qs, reconstruction.standings)
            key, reverse = _sort_key(sort)
            pairs.sort(key=key, reverse=reverse)
            paginator = Paginator(pairs, size)
            page = self._page(paginator, p)
            results = [
                _summary(
                    request,
                    m,
                    standing.score,
                    None,
                    _counted(standing.statuses),
                    timetravel.REPLAY_METHOD_VERSION,
                )
                for m, standing in page.object_list
            ]
        return {
            "peildatum": on,
            "count": paginator.count,
            "page": page.number,
            "pageSize": size,
            "_links": _page_links(request, page, size),
            "results": results,
        }

    def _page(self, paginator: Paginator, p: dict):
        try:
            return paginator.page(p.get("pagina", 1))
        except EmptyPage:
            raise exceptions.NotFound(_("This page does not exist.")) from None

    def _compliance_counts(self, ids) -> dict[int, dict[str, int]]:
        counts: dict[int, dict[str, int]] = defaultdict(dict)
        rows = (
            AgreementCompliance.objects.filter(municipality_id__in=list(ids))
            .values_list("municipality_id", "status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for municipality_id, status, n in rows:
            counts[municipality_id][status] = n
        return counts


def _counted(statuses: dict[int, str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for status in statuses.values():
        counts[status] += 1
    return counts


class MunicipalityDetailView(ApiView):
    """One municipality: its status per building block and per agreement."""

    operation_id = "gemeenten_retrieve"
    summary = "One municipality"
    path_parameters = (
        OpenApiParameter(
            "cbsCode", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^GM\d{4}$"
        ),
    )
    response_class = s.MunicipalityDetailSerializer

    def data(self, request: Request, p: dict, cbsCode: str) -> dict[str, Any]:  # noqa: N803
        on = p.get("peildatum")
        if not re.fullmatch(CBS_CODE_REGEX, cbsCode.upper()):
            raise exceptions.NotFound()
        municipality = get_object_or_404(
            Municipality.objects.select_related("province", "score"),
            cbs_code=cbsCode.upper(),
        )
        blocks = list(BuildingBlock.objects.filter(active=True))
        agreements = list(ResultAgreement.objects.order_by("number"))
        show_notes = can_see_notes(request.user, municipality)
        if on is None:
            score_row = getattr(municipality, "score", None)
            score = score_row.score if score_row else None
            rank = score_row.rank if score_row else None
            method_version = score_row.method_version if score_row else None
            current = {
                status.block_id: status
                for status in AdoptionStatus.objects.filter(municipality=municipality)
            }
            statuses = [
                _status_row(block, current.get(block.pk), show_notes)
                for block in blocks
            ]
            compliance = dict(
                AgreementCompliance.objects.filter(
                    municipality=municipality
                ).values_list("agreement_id", "status")
            )
            deadlines = {a.pk: a.deadline for a in agreements}
        else:
            reconstruction = timetravel.standings_on(on, [municipality.pk])
            standing = reconstruction.standings.get(municipality.pk)
            if standing is None:
                raise exceptions.NotFound(
                    _("This municipality did not exist on the reference date.")
                )
            score, rank = standing.score, None
            method_version = timetravel.REPLAY_METHOD_VERSION
            statuses = [
                _past_status_row(block, standing.states.get(block.pk))
                for block in blocks
            ]
            compliance = standing.statuses
            deadlines = reconstruction.deadlines
        return {
            **_summary(
                request,
                municipality,
                score,
                rank,
                _counted(compliance),
                method_version,
            ),
            "peildatum": on,
            "populationDate": municipality.population_date,
            "active": municipality.active,
            "statuses": statuses,
            "agreements": [
                {
                    "number": a.number,
                    "title": a.title,
                    "deadline": deadlines.get(a.pk, a.deadline),
                    "status": compliance.get(a.pk),
                }
                for a in agreements
            ],
        }


def _status_row(block: BuildingBlock, status: AdoptionStatus | None, show_notes: bool):
    row = {
        "block": block.code,
        "blockName": block.name,
        "level": status.level if status else Level.NOT_STARTED,
        "plannedDate": status.planned_date if status else None,
        "achievedDate": status.achieved_date if status else None,
    }
    if show_notes:
        row["note"] = status.note if status else ""
        row["evidenceUrl"] = status.evidence_url if status else ""
    return row


def _past_status_row(block: BuildingBlock, state: rules.BlockState | None):
    state = state or rules.NOT_STARTED
    return {
        "block": block.code,
        "blockName": block.name,
        "level": state.level,
        "plannedDate": state.planned_date,
        "achievedDate": None,
    }


# --- building blocks -----------------------------------------------------------------


def _national(on: datetime.date | None) -> dict[str, Any]:
    rows, method_version = timetravel.versioned_figures(on)
    national = _figures_by_scope(rows).get(
        (Scope.NATIONAL, ""), {"values": {}, "blocks": {}, "agreements": {}}
    )
    return {**national, "methodVersion": method_version}


def _block(block: BuildingBlock, national: dict[str, Any]) -> dict[str, Any]:
    figures = national["blocks"].get(block.pk, {})
    return {
        "code": block.code,
        "name": block.name,
        "nameEn": block.name_en,
        "category": block.category,
        "owner": block.owner,
        "description": block.description,
        "weight": float(block.weight),
        "source": block.source,
        "confidence": block.confidence,
        "inUseShare": figures.get(Measure.IN_USE_SHARE),
        "coverage": figures.get(Measure.COVERAGE),
        "methodVersion": national["methodVersion"],
    }


class BlockListView(ApiView):
    """The active building blocks with their national share in use and coverage."""

    operation_id = "bouwstenen_list"
    summary = "Building blocks"
    response_class = s.BlockListSerializer
    csv_rows = "results"

    def data(self, request: Request, p: dict) -> dict[str, Any]:
        on = p.get("peildatum")
        national = _national(on)
        blocks = BuildingBlock.objects.filter(active=True)
        return {"peildatum": on, "results": [_block(b, national) for b in blocks]}


class BlockDetailView(ApiView):
    """One active building block with its national share in use and coverage."""

    operation_id = "bouwstenen_retrieve"
    summary = "One building block"
    response_class = s.BlockDetailSerializer

    def data(self, request: Request, p: dict, code: str) -> dict[str, Any]:
        on = p.get("peildatum")
        block = get_object_or_404(BuildingBlock, code=code, active=True)
        return {**_block(block, _national(on)), "peildatum": on}


# --- agreements ------------------------------------------------------------------------


def _agreement(agreement: ResultAgreement, national, on: datetime.date | None):
    revisions = [
        r for r in agreement.revisions.all() if on is None or r.decided_on <= on
    ]
    figures = national["agreements"].get(agreement.pk, {})
    deadline = (
        agreement.deadline
        if on is None
        else rules.deadline_in_force(
            agreement.original_deadline,
            [(r.decided_on, r.new_deadline) for r in revisions],
            on,
        )
    )
    return {
        "number": agreement.number,
        "title": agreement.title,
        "titleEn": agreement.title_en,
        "description": agreement.description,
        "originalDeadline": agreement.original_deadline,
        "deadline": deadline,
        "deadlineIsReference": agreement.deadline_is_reference,
        "source": agreement.source,
        "confidence": agreement.confidence,
        "requirements": [
            {"block": r.block.code, "minimumLevel": r.minimum_level}
            for r in agreement.requirements.all()
            if r.block.active
        ],
        "revisions": [
            {
                "oldDeadline": r.old_deadline,
                "newDeadline": r.new_deadline,
                "decidedOn": r.decided_on,
                "reason": r.reason,
                "synthetic": r.synthetic,
            }
            for r in revisions
        ],
        "complianceShare": figures.get(Measure.COMPLIANCE_SHARE),
        "statusCounts": status_counts(figures.get("counts", {})),
        "methodVersion": national["methodVersion"],
    }


def _agreements():
    return ResultAgreement.objects.order_by("number").prefetch_related(
        Prefetch(
            "requirements",
            queryset=Requirement.objects.current().select_related("block"),
        ),
        "revisions",
    )


class AgreementListView(ApiView):
    """The result agreements: requirements, deadlines, revisions and compliance."""

    operation_id = "resultaatafspraken_list"
    summary = "Result agreements with deadlines and revisions"
    response_class = s.AgreementListSerializer

    def data(self, request: Request, p: dict) -> dict[str, Any]:
        on = p.get("peildatum")
        national = _national(on)
        return {
            "peildatum": on,
            "results": [_agreement(a, national, on) for a in _agreements()],
        }


class AgreementDetailView(ApiView):
    """One result agreement: requirements, deadline, revisions and compliance."""

    operation_id = "resultaatafspraken_retrieve"
    summary = "One result agreement"
    path_parameters = (
        OpenApiParameter(
            "number",
            {"type": "integer", "minimum": 1, "maximum": AGREEMENT_NUMBER_MAX},
            OpenApiParameter.PATH,
        ),
    )
    response_class = s.AgreementDetailSerializer

    def data(self, request: Request, p: dict, number: int) -> dict[str, Any]:
        on = p.get("peildatum")
        if not 1 <= number <= AGREEMENT_NUMBER_MAX:
            # The column is a small integer: a larger number would fail in SQL.
            raise exceptions.NotFound()
        agreement = get_object_or_404(_agreements(), number=number)
        return {**_agreement(agreement, _national(on), on), "peildatum": on}


# --- figures and trends ------------------------------------------------------------------


class FiguresView(ConditionalMixin, ApiView):
    """Aggregate figures for the country, each size class and each province."""

    operation_id = "cijfers_list"
    summary = "Aggregate figures: national, per size class, per province"
    params_class = s.FiguresParamsSerializer
    response_class = s.FiguresSerializer

    def data(self, request: Request, p: dict) -> dict[str, Any]:
        on = p.get("peildatum")
        wanted = SCOPES_BY_NAME.get(p.get("schaal", ""))
        block_codes = dict(BuildingBlock.objects.values_list("pk", "code"))
        numbers = dict(ResultAgreement.objects.values_list("pk", "number"))
        results = []
        rows, method_version = timetravel.versioned_figures(on)
        grouped = _figures_by_scope(rows)
        order = {scope: i for i, scope in enumerate(SCOPE_NAMES)}
        for (scope, key), entry in sorted(
            grouped.items(), key=lambda x: (order[x[0][0]], x[0][1])
        ):
            if wanted and scope != wanted:
                continue
            values = entry["values"]
            results.append(
                {
                    "scope": SCOPE_NAMES[scope],
                    "key": key,
                    "municipalities": _int(values.get(Measure.MUNICIPALITIES)),
                    "meanScore": values.get(Measure.MEAN_SCORE),
                    "medianScore": values.get(Measure.MEDIAN_SCORE),
                    "allAgreementsMet": _int(values.get(Measure.ALL_MET)),
                    "methodVersion": method_version,
                    "blocks": [
                        {
                            "block": block_codes[block_id],
                            "inUseShare": figures.get(Measure.IN_USE_SHARE),
                            "coverage": figures.get(Measure.COVERAGE),
                        }
                        for block_id, figures in entry["blocks"].items()
                        if block_id in block_codes
                    ],
                    "agreements": [
                        {
                            "number": numbers[agreement_id],
                            "complianceShare": figures.get(Measure.COMPLIANCE_SHARE),
                            "statusCounts": status_counts(figures.get("counts", {})),
                        }
                        for agreement_id, figures in entry["agreements"].items()
                        if agreement_id in numbers
                    ],
                }
            )
        return {"peildatum": on, "results": results}


class TrendView(ConditionalMixin, ApiView):
    """Monthly figures from the snapshots: municipalities, mean and median score."""

    operation_id = "trends_list"
    summary = "Monthly trend of one scope"
    params_class = s.TrendParamsSerializer
    response_class = s.TrendSerializer
    csv_rows = "results"

    def data(self, request: Request, p: dict) -> dict[str, Any]:
        name = p.get("schaal", "nederland")
        scope = SCOPES_BY_NAME[name]
        key = "" if scope == Scope.NATIONAL else p.get("sleutel", "")
        rows = Snapshot.objects.filter(
            scope=scope,
            key=key,
            measure__in=[
                Measure.MUNICIPALITIES,
                Measure.MEAN_SCORE,
                Measure.MEDIAN_SCORE,
                Measure.ALL_MET,
            ],
        )
        if p.get("vanaf"):
            rows = rows.filter(month__gte=p["vanaf"].replace(day=1))
        if p.get("tot"):
            rows = rows.filter(month__lte=p["tot"])
        months: dict[datetime.date, dict[str, float | None]] = defaultdict(dict)
        # A rebuild rewrites a month whole: its rows share one version.
        versions: dict[datetime.date, str] = {}
        for month, measure, value, version in rows.order_by("month").values_list(
            "month", "measure", "value", "method_version"
        ):
            months[month][measure] = value
            versions[month] = version
        results = [
            {
                "month": month,
                "municipalities": _int(values.get(Measure.MUNICIPALITIES)),
                "meanScore": values.get(Measure.MEAN_SCORE),
                "medianScore": values.get(Measure.MEDIAN_SCORE),
                "allAgreementsMet": _int(values.get(Measure.ALL_MET)),
                "methodVersion": versions[month],
            }
            for month, values in months.items()
        ]
        return {"scope": name, "key": key, "results": results}
