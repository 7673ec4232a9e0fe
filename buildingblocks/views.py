"""Views of the buildingblocks app: the block pages, the status editor and its
history, and the bulk import."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core import signing
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView, View

from django_filters.views import FilterView
from django_tables2 import SingleTableMixin, SingleTableView

from buildingblocks import import_service
from buildingblocks.deadlines import agreements_due
from buildingblocks.filters import BlockStatusFilterSet, StatusChangeFilterSet
from buildingblocks.forms import (
    AdoptionStatusForm,
    AdoptionStatusFormSet,
    BaseAdoptionStatusFormSet,
    ImportUploadForm,
)
from buildingblocks.imports import (
    CLEAR_MARKER,
    COLUMNS,
    FieldChange,
    ImportFileError,
    read_table,
    template_csv,
)
from buildingblocks.levels import Category, Level
from buildingblocks.models import (
    AdoptionStatus,
    BuildingBlock,
    ImportBatch,
    StatusChange,
)
from buildingblocks.services import (
    CurrentStatus,
    InvalidStatusEdit,
    StatusConflict,
    StatusValidationError,
    save_statuses,
    values_of,
)
from buildingblocks.streaming import status_csv_response
from buildingblocks.tables import (
    BlockStatusTable,
    BuildingBlockTable,
    StatusChangeTable,
)
from buildingblocks.validation import STATUS_FIELDS, StatusValues
from municipalities.columns import ColumnChoiceMixin, table_column_set
from municipalities.models import Municipality
from municipalities.permissions import (
    KingStaffRequiredMixin,
    MunicipalityEditMixin,
    assigned_municipalities,
    can_edit_municipality,
    can_see_notes,
    check_notes_access,
)
from municipalities.queries import block_rows
from municipalities.roles import is_king_staff
from nupportal.audit import audit
from nupportal.columns import ColumnSet
from nupportal.exports import SafeExportMixin
from nupportal.pagination import paginate, pagination
from scoring import timetravel
from scoring.dashboards import block_context
from scoring.models import Measure, Scope

# --- building-block pages (list: H4; detail: placeholder for H6) -------------


class BuildingBlockListView(
    SafeExportMixin, timetravel.PastDateTableMixin, SingleTableView
):
    """/bouwstenen/: every active block with its national figures; exportable."""

    table_class = BuildingBlockTable
    table_pagination = False
    template_name = "buildingblocks/buildingblock_list.html"
    export_name = _("building blocks")

    def get_queryset(self):
        return block_rows()

    def rows_on(self, on: datetime.date) -> list[BuildingBlock]:
        # That day's national figures in the columns block_rows() annotates.
        national = {
            (measure, block_id): value
            for scope, _k, measure, block_id, agreement_id, _s, value in (
                timetravel.figures(on)
            )
            if scope == Scope.NATIONAL and block_id is not None
        }
        blocks = list(BuildingBlock.objects.filter(active=True))
        for block in blocks:
            block.in_use_share = national.get((Measure.IN_USE_SHARE, block.pk))
            block.applicable = national.get((Measure.APPLICABLE, block.pk))
            block.coverage = national.get((Measure.COVERAGE, block.pk))
        return blocks

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["may_export_notes"] = can_see_notes(self.request.user)
        return context


class StatusExportView(LoginRequiredMixin, View):
    """Every current status, notes included, as one streamed CSV of any size.

    It holds the notes and evidence of every municipality: VDP and KING staff
    only (`can_see_notes` without a municipality; DESIGN §2). The file is
    produced by the database (COPY on PostgreSQL) and never held in memory.
    """

    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        check_notes_access(request, None)
        audit("statuses_exported", request=request)
        statuses = AdoptionStatus.objects.filter(
            municipality__active=True, block__active=True
        )
        return status_csv_response(
            statuses,
            include_notes=True,
            filename=f"nup-statussen-{timezone.localdate():%Y-%m-%d}.csv",
        )


class BuildingBlockDetailView(
    SafeExportMixin, timetravel.PastDateTableMixin, SingleTableMixin, FilterView
):
    """/bouwstenen/<code>/: what the block is, its levels, map and trend, and the
    municipalities per level (filterable, exportable)."""

    table_class = BlockStatusTable
    filterset_class = BlockStatusFilterSet
    template_name = "buildingblocks/buildingblock_detail.html"
    table_pagination = pagination(per_page=50)

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = get_object_or_404(BuildingBlock, code=kwargs["code"])
        return super().dispatch(request, *args, **kwargs)

    @property
    def export_name(self) -> str:
        return f"{self.object.code}-{_('municipalities')}"

    def get_queryset(self):
        return AdoptionStatus.objects.filter(
            block=self.object, municipality__active=True
        ).select_related("municipality__province")

    def _past(self) -> timetravel.Reconstruction | None:
        return timetravel.standings_of_request(self.request)

    def rows_on(self, on: datetime.date) -> list[AdoptionStatus]:
        if not self.filterset.is_valid():
            return []
        # That day's state of this block, as unsaved status rows for the table.
        past = self._past()
        level = self.filterset.form.cleaned_data.get("level")
        size_class = self.filterset.form.cleaned_data.get("size_class")
        rows = []
        for municipality in timetravel.municipalities_on(on).order_by("name"):
            standing = past.standings.get(municipality.pk)
            state = standing.states.get(self.object.pk) if standing else None
            if state is None:
                continue
            if (level and state.level != level) or (
                size_class and municipality.size_class != size_class
            ):
                continue
            rows.append(
                AdoptionStatus.past_row(
                    municipality, self.object, state.level, state.planned_date
                )
            )
        return rows

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["object"] = context["buildingblock"] = self.object
        if not self.is_export_request():
            context.update(
                block_context(
                    self.object, timetravel.requested(self.request), self._past()
                )
            )
        return context


# --- Status editing: the editor, the history and "my municipality" -----------


class StatusEditView(MunicipalityEditMixin, TemplateView):
    """All building blocks of one municipality on one page (DESIGN §5).

    GET shows the formset; POST validates it, sends the changed blocks to
    `save_statuses` and redirects back (201-free post/redirect/get). A stale form
    answers 409 with the conflicts explained and the user's values kept.
    """

    template_name = "buildingblocks/status_edit.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return self.render_formset(self.build_formset())

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        formset = self.build_formset(data=request.POST)
        formset.check_tampering()
        if not formset.is_valid():
            return self.render_formset(formset)
        edits = formset.changed_edits()
        if not edits:
            messages.info(request, _("Nothing was changed."))
            return redirect("buildingblocks:edit", slug=self.municipality.slug)
        try:
            result = save_statuses(
                user=request.user,
                municipality=self.municipality,
                changes=edits,
                source=StatusChange.Source.FORM,
            )
        except InvalidStatusEdit as error:
            raise SuspiciousOperation(str(error)) from error
        except StatusValidationError as error:
            for form in formset.forms:
                block_errors = error.errors.get(form.building_block.code, {})
                for name, field_errors in block_errors.items():
                    for message in field_errors:
                        form.add_error(name or None, message)
            return self.render_formset(formset)
        except StatusConflict as conflict:
            return self.render_formset(
                self.conflict_formset(formset, conflict), status=409
            )
        count = len(result.changes)
        messages.success(
            request,
            ngettext(
                "%(count)d building block saved.",
                "%(count)d building blocks saved.",
                count,
            )
            % {"count": count},
        )
        return redirect("buildingblocks:edit", slug=self.municipality.slug)

    def blocks(self) -> list[BuildingBlock]:
        """Active blocks, grouped by category in the order of the categories."""
        category_rank = {value: rank for rank, value in enumerate(Category.values)}
        return sorted(
            BuildingBlock.objects.filter(active=True),
            key=lambda block: (
                category_rank.get(block.category, len(category_rank)),
                block.order,
                block.code,
            ),
        )

    def statuses(self) -> dict[int, AdoptionStatus]:
        return {
            status.block_id: status
            for status in AdoptionStatus.objects.filter(municipality=self.municipality)
        }

    def build_formset(self, data=None) -> BaseAdoptionStatusFormSet:
        if data is None:
            return AdoptionStatusFormSet(blocks=self.blocks(), statuses=self.statuses())
        # A posted form carries everything it needs (values, hidden versions and
        # the values it was loaded with); no initial data from the database.
        return AdoptionStatusFormSet(data, blocks=self.blocks(), statuses={})

    def conflict_formset(
        self, formset: BaseAdoptionStatusFormSet, conflict: StatusConflict
    ) -> BaseAdoptionStatusFormSet:
        """The same page again, ready for a deliberate second save.

        Every block gets its current version and "loaded" values, so a second
        save compares against what is in the database now. Blocks the user
        changed keep the user's values; blocks the user left alone show the
        current values. Stale blocks carry a description of what changed.
        """
        statuses = self.statuses()
        data = formset.data.copy()
        for form in formset.forms:
            status = statuses.get(form.building_block.pk)
            current = values_of(status)
            data[form.add_prefix("version")] = str(status.version if status else 0)
            for name in STATUS_FIELDS:
                value = _as_data(getattr(current, name))
                data[form[name].html_initial_name] = value
                if not form.user_changed():
                    data[form.add_prefix(name)] = value
        refreshed = self.build_formset(data=data)
        refreshed.is_valid()
        loaded = {form.prefix: form.loaded_values() for form in formset.forms}
        for form in refreshed.forms:
            stale = conflict.current.get(form.building_block.code)
            if stale is not None:
                form.conflict = describe_conflict(form, loaded[form.prefix], stale)
        refreshed.conflicts = [
            form for form in refreshed.forms if form.conflict is not None
        ]
        return refreshed

    def render_formset(
        self, formset: BaseAdoptionStatusFormSet, status: int = 200
    ) -> HttpResponse:
        context = self.get_context_data(
            formset=formset,
            municipality=self.municipality,
            conflicts=getattr(formset, "conflicts", []),
        )
        return self.render_to_response(context, status=status)


@dataclass(frozen=True)
class ShownChange:
    """A changed status field as a page shows it: in the editor's note on what
    someone else saved, and in the import preview."""

    field: str
    label: str
    before: object
    after: object


@dataclass(frozen=True)
class ConflictDescription:
    """What someone else changed in one block since the form was loaded."""

    changes: list[ShownChange]
    changed_by: str | None
    changed_at: datetime.datetime | None


def describe_conflict(
    form: AdoptionStatusForm, loaded: StatusValues, current: CurrentStatus
) -> ConflictDescription:
    changes = []
    for name in STATUS_FIELDS:
        before, after = getattr(loaded, name), getattr(current.values, name)
        if before != after:
            if name == "level":
                before, after = _level_label(before), _level_label(after)
            label = str(form.fields[name].label)
            changes.append(ShownChange(name, label, before, after))
    return ConflictDescription(changes, current.changed_by, current.changed_at)


def _level_label(level: str) -> str:
    try:
        return Level(level).label
    except ValueError:
        return level or "—"


def _as_data(value) -> str:
    """A value as a browser would post it."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class StatusChangeListView(
    LoginRequiredMixin, ColumnChoiceMixin, SingleTableMixin, FilterView
):
    """The audit trail of one municipality; read-only.

    It shows notes and who made each change: for those who may read the
    municipality's notes (`can_see_notes`); anonymous users go to the login.
    """

    model = StatusChange
    table_class = StatusChangeTable
    filterset_class = StatusChangeFilterSet
    template_name = "buildingblocks/statuschange_list.html"
    table_pagination = pagination(per_page=50)
    column_table = "history"

    def get_column_set(self) -> ColumnSet:
        # What fits at 1280 px beside the filters; the achieved date and the
        # source (editor, import, seed) are shown on request.
        return table_column_set(
            StatusChangeTable,
            default=("changed_at", "block", "level", "planned", "changed_by", "note"),
            required=("changed_at",),
        )

    def get_table_kwargs(self) -> dict:
        return {**super().get_table_kwargs(), "exclude": self.hidden_columns()}

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.municipality = get_object_or_404(Municipality, slug=kwargs["slug"])
        check_notes_access(request, self.municipality)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return StatusChange.objects.filter(
            municipality=self.municipality
        ).select_related("block", "changed_by")

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["municipality"] = self.municipality
        context["can_edit"] = can_edit_municipality(
            self.request.user, self.municipality
        )
        return context


class MyMunicipalityView(LoginRequiredMixin, TemplateView):
    """A CIO's landing page: their municipalities and what is due when."""

    template_name = "buildingblocks/mine.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        municipalities = list(
            assigned_municipalities(user).select_related("province", "score")
        )
        chosen = None
        if len(municipalities) == 1:
            chosen = municipalities[0]
        elif slug := self.request.GET.get("gemeente"):
            chosen = next((m for m in municipalities if m.slug == slug), None)
        context.update(
            municipalities=municipalities,
            chosen=chosen,
            is_king_staff=is_king_staff(user),
        )
        if chosen is not None:
            today = timezone.localdate()
            due = agreements_due(chosen, today=today)
            context.update(
                score=getattr(chosen, "score", None),
                due=due,
                attention=[item for item in due if item.needs_attention],
                today=today,
            )
        return context


# --- the bulk import (KING staff): upload, dry run, apply ---------------------

# Rows of the file a page of the preview shows (with their errors or changes).
PREVIEW_PER_PAGE = 100
# Rows named in a conflict message; the rest are counted.
CONFLICTS_NAMED = 20


class ImportView(KingStaffRequiredMixin, View):
    """Upload a file; it is read and checked, then the dry run is shown."""

    template_name = "buildingblocks/importbatch_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(ImportUploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(form, status=400)
        upload = form.cleaned_data["file"]
        data = upload.read(settings.NUP_UPLOAD_MAX_BYTES + 1)
        try:
            rows = read_table(
                data,
                upload.name,
                max_bytes=settings.NUP_UPLOAD_MAX_BYTES,
                max_rows=settings.NUP_IMPORT_MAX_ROWS,
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
            return self._render(form, status=400)
        batch = ImportBatch.objects.create(
            filename=upload.name[:255],
            checksum=hashlib.sha256(data).hexdigest(),
            rows=[[number, raw] for number, raw in rows],
            row_count=len(rows),
            uploaded_by=request.user,
        )
        audit(
            "import_uploaded",
            request=request,
            batch=batch.batch_id,
            file=batch.filename,
            rows=batch.row_count,
            sha256=batch.checksum,
        )
        return redirect(batch)

    def _render(self, form: ImportUploadForm, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "columns": COLUMNS,
            "clear_marker": CLEAR_MARKER,
            "max_mb": round(settings.NUP_UPLOAD_MAX_BYTES / (1024 * 1024), 1),
            "max_rows": settings.NUP_IMPORT_MAX_ROWS,
            "recent": ImportBatch.objects.select_related("uploaded_by", "applied_by")[
                :10
            ],
        }
        return render(self.request, self.template_name, context, status=status)


class ImportPreviewView(KingStaffRequiredMixin, View):
    """The dry run of one uploaded batch, and the apply button; after the apply,
    what it changed.

    A GET of the stored batch, so paging (?page=) never asks for the file again;
    each page shows a page of the rows with an error or a change, and the apply
    button on every page applies the whole file.
    """

    template_name = "buildingblocks/importbatch_detail.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = get_object_or_404(
            ImportBatch.objects.select_related("uploaded_by", "applied_by"), pk=pk
        )
        if batch.applied_at is not None:
            return self._render_applied(batch)
        plan, versions = import_service.dry_run_with_versions(batch.rows)
        # One row has either errors or a change, never both.
        rows = sorted({e.row for e in plan.errors} | {c.row for c in plan.changes})
        paginator, page = paginate(rows, PREVIEW_PER_PAGE, request.GET.get("page"))
        shown = set(page.object_list)
        changes = [c for c in plan.changes if c.row in shown]
        names = dict(
            Municipality.objects.filter(
                cbs_code__in={c.cbs_code for c in changes}
            ).values_list("cbs_code", "name")
        )
        context = {
            "batch": batch,
            "plan": plan,
            "errors": [e for e in plan.errors if e.row in shown],
            "changes": [
                (
                    change,
                    names.get(change.cbs_code, ""),
                    [_shown(field) for field in change.changes],
                )
                for change in changes
            ],
            "paginator": paginator,
            "page_obj": page,
            # The apply checks that no status changed since this dry run.
            "seen_versions": signing.dumps(
                versions, salt=_versions_salt(batch), compress=True
            ),
        }
        return render(self.request, self.template_name, context)

    def _render_applied(self, batch: ImportBatch) -> HttpResponse:
        """What the apply did, from the history it wrote.

        A new dry run would only say that nothing is left to change, so an
        applied batch shows its own record instead.
        """
        applied = (
            StatusChange.objects.filter(batch_id=batch.batch_id)
            .select_related("municipality", "block")
            .order_by("municipality__name", "block__code", "pk")
        )
        paginator, page = paginate(
            applied, PREVIEW_PER_PAGE, self.request.GET.get("page")
        )
        context = {"batch": batch, "paginator": paginator, "page_obj": page}
        return render(self.request, self.template_name, context)


def _versions_salt(batch: ImportBatch) -> str:
    return f"import-versions:{batch.uid}"


def _shown(field: FieldChange) -> ShownChange:
    """A planned change named and written as the status editor does."""
    return ShownChange(
        field.field,
        str(AdoptionStatusForm.base_fields[field.field].label),
        _shown_value(field.field, field.old),
        _shown_value(field.field, field.new),
    )


def _shown_value(name: str, text: str) -> str:
    if not text:
        return ""
    if name == "level":
        return str(_level_label(text))
    if name.endswith("_date"):
        try:
            return formats.date_format(datetime.date.fromisoformat(text), "DATE_FORMAT")
        except ValueError:
            return text
    return text


class ImportApplyView(KingStaffRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = get_object_or_404(ImportBatch, pk=pk)
        try:
            seen = signing.loads(
                request.POST.get("seen_versions", ""), salt=_versions_salt(batch)
            )
        except signing.BadSignature:
            seen = None
        if not isinstance(seen, list) and batch.applied_at is None:
            messages.error(
                request,
                _(
                    "Nothing was changed: apply the file from its check page, "
                    "after reviewing what would change."
                ),
            )
            return redirect(batch)
        try:
            result = import_service.apply_import(
                batch=batch, user=request.user, seen_versions=seen
            )
        except import_service.ImportConflict as exc:
            named = exc.conflicts[:CONFLICTS_NAMED]
            messages.error(
                request,
                _(
                    "Nothing was changed: %(count)s statuses were saved by someone "
                    "else after this check (rows %(rows)s). Review the new check "
                    "below and apply again if it is still right."
                )
                % {
                    "count": len(exc.conflicts),
                    "rows": ", ".join(
                        f"{c.row} ({c.cbs_code} {c.block_code})" for c in named
                    )
                    + (" …" if len(exc.conflicts) > len(named) else ""),
                },
            )
            return redirect(batch)
        except import_service.ImportAlreadyApplied:
            messages.info(request, _("This file has already been applied."))
            return redirect(batch)
        except import_service.ImportHasErrors:
            messages.error(
                request,
                _(
                    "Nothing was changed: the file has errors. Correct them and upload it again."
                ),
            )
            return redirect(batch)
        audit(
            "import_applied",
            request=request,
            batch=result.batch_id,
            changed=result.changed,
            unchanged=result.unchanged,
        )
        messages.success(
            request,
            _(
                "Import applied: %(changed)s statuses changed, %(unchanged)s unchanged. "
                "The scores are being recomputed."
            )
            % {"changed": result.changed, "unchanged": result.unchanged},
        )
        return redirect(batch)


class ImportTemplateView(KingStaffRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        response = HttpResponse(
            "\ufeff" + template_csv(timezone.localdate()),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            'attachment; filename="nup-import-template.csv"'
        )
        return response
