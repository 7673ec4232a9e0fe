"""KING staff pages: reports on demand and the bulk import.

Every view here is for KING staff (anonymous → login, other roles → 403), except
that a municipality's editors may request, follow and download the scorecard PDF
of their own municipality.
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from django_tables2 import SingleTableMixin

from agreements.models import ReminderLog
from agreements.reminders import REMINDER_INTERVAL, kept_mail_folder, plan_reminders
from buildingblocks import import_service
from buildingblocks.imports import (
    CLEAR_MARKER,
    COLUMNS,
    FieldChange,
    ImportFileError,
    read_table,
    template_csv,
)
from buildingblocks.levels import Level
from buildingblocks.models import StatusChange
from municipalities.models import Municipality
from municipalities.roles import is_king_staff
from nupportal.audit import audit
from nupportal.pagination import pagination
from reports.forms import ImportUploadForm, ReminderFilterForm, ReportRequestForm
from reports.models import ImportBatch, Report
from reports.tables import PlannedReminderTable, ReportTable
from reports.tasks import enqueue_report

# Shown on the page; beyond this the preview says how many more there are.
PREVIEW_LIMIT = 500
# The preview names the fields as the status editor does.
FIELD_LABELS = {
    "level": gettext_lazy("Level"),
    "planned_date": gettext_lazy("Planned date"),
    "achieved_date": gettext_lazy("Achieved date"),
    "note": gettext_lazy("Note"),
    "evidence_url": gettext_lazy("Evidence"),
}
# Rows named in a conflict message; the rest are counted.
CONFLICTS_NAMED = 20


class KingStaffRequiredMixin(AccessMixin):
    """Anonymous users go to the login page; logged-in users without the role get 403."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_king_staff(request.user):
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)


def _may_see_report(user, report: Report) -> bool:
    if is_king_staff(user):
        return True
    if report.kind != Report.Kind.SCORECARD or not user.is_authenticated:
        return False
    municipality = Municipality.objects.filter(
        pk=report.parameters.get("municipality")
    ).first()
    return municipality is not None and _can_edit(user, municipality)


def _can_edit(user, municipality: Municipality) -> bool:
    from municipalities.permissions import can_edit_municipality

    return can_edit_municipality(user, municipality)


def _report_for(request: HttpRequest, pk: int) -> Report | HttpResponse:
    """The report, or the response for a user who may not see it."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    report = get_object_or_404(Report.objects.select_related("requested_by"), pk=pk)
    if not _may_see_report(request.user, report):
        raise PermissionDenied
    return report


# --- Reports ----------------------------------------------------------------


class ReportListView(KingStaffRequiredMixin, SingleTableMixin, View):
    """The request form and the list of earlier reports."""

    table_class = ReportTable
    table_pagination = pagination(per_page=25)
    template_name = "reports/report_list.html"

    def get_table_data(self):
        return Report.objects.select_related("requested_by")

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(ReportRequestForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ReportRequestForm(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        report = create_report(
            kind=form.cleaned_data["kind"],
            parameters=form.parameters(),
            user=request.user,
            request=request,
        )
        return redirect(report)

    def _render(self, form: ReportRequestForm, status: int = 200) -> HttpResponse:
        self.object_list = self.get_table_data()
        context = {
            "form": form,
            "table": self.get_table(),
            "mail_folder": kept_mail_folder(),
        }
        return render(self.request, self.template_name, context, status=status)


def create_report(*, kind: str, parameters: dict, user, request: HttpRequest) -> Report:
    """Create the Report row (queued) and enqueue its generation after commit."""
    parameters = {**parameters, "language": translation.get_language()}
    with transaction.atomic():
        report = Report.objects.create(
            kind=kind, parameters=parameters, requested_by=user
        )
        transaction.on_commit(lambda: enqueue_report(report.pk))
    audit(
        "report_requested",
        user=user,
        request=request,
        report=report.pk,
        kind=kind,
        parameters=parameters,
    )
    return report


@never_cache
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_for(request, pk)
    if isinstance(report, HttpResponse):
        return report
    response = render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "finished": _finished(report),
            "show_list_link": is_king_staff(request.user),
        },
    )
    if not _finished(report):
        # Reloads the page for browsers without JavaScript; an HTTP header, so
        # no inline markup is needed.
        response["Refresh"] = "3"
    return response


def _finished(report: Report) -> bool:
    return report.state in (Report.State.DONE, Report.State.FAILED)


@never_cache
def report_status(request: HttpRequest, pk: int) -> HttpResponse:
    """JSON for the progress bar's polling script."""
    report = _report_for(request, pk)
    if isinstance(report, HttpResponse):
        return report
    return JsonResponse(
        {
            "state": report.state,
            "state_display": str(report.get_state_display()),
            "progress": report.progress,
            "error": report.error,
            "download_url": reverse("reports:download", kwargs={"pk": report.pk})
            if report.state == Report.State.DONE and report.file
            else "",
        }
    )


def report_download(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_for(request, pk)
    if isinstance(report, HttpResponse):
        return report
    if report.state != Report.State.DONE or not report.file:
        raise Http404(_("This report has no file (yet)."))
    try:
        handle = report.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The report's file is missing.")) from exc
    audit(
        "report_downloaded",
        request=request,
        report=report.pk,
        kind=report.kind,
        file=report.file.name,
    )
    return FileResponse(handle, as_attachment=True, filename=report.download_name)


@require_POST
def report_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a failed report again (who may see a report may retry it)."""
    report = _report_for(request, pk)
    if isinstance(report, HttpResponse):
        return report
    with transaction.atomic():
        retried = Report.objects.filter(pk=report.pk, state=Report.State.FAILED).update(
            state=Report.State.QUEUED,
            progress=0,
            error="",
            started_at=None,
            finished_at=None,
        )
        if retried:
            transaction.on_commit(lambda: enqueue_report(report.pk))
    if retried:
        audit("report_retried", request=request, report=report.pk, kind=report.kind)
    return redirect(report)


@require_POST
def report_delete(request: HttpRequest, pk: int) -> HttpResponse:
    if not is_king_staff(request.user):
        raise PermissionDenied
    report = get_object_or_404(Report, pk=pk)
    name = report.file.name
    if report.file:
        report.file.delete(save=False)
    report.delete()
    audit("report_deleted", request=request, report=pk, kind=report.kind, file=name)
    messages.success(request, _("The report has been deleted."))
    return redirect("reports:list")


@require_POST
def scorecard_request(request: HttpRequest, slug: str) -> HttpResponse:
    """A municipality's editors (and KING staff) request its scorecard PDF."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    municipality = get_object_or_404(Municipality, slug=slug)
    if not _can_edit(request.user, municipality):
        raise PermissionDenied
    report = create_report(
        kind=Report.Kind.SCORECARD,
        parameters={
            "municipality": municipality.pk,
            "municipality_name": municipality.name,
        },
        user=request.user,
        request=request,
    )
    return redirect(report)


# --- Deadline reminders -------------------------------------------------------


class ReminderPlanView(KingStaffRequiredMixin, SingleTableMixin, View):
    """This week's reminder mails, one row per municipality, as the weekly run plans them."""

    table_class = PlannedReminderTable
    table_pagination = pagination(per_page=25)
    template_name = "reports/reminder_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = ReminderFilterForm(request.GET)
        plan = plan_reminders()
        if not form.is_valid():
            shown = []  # like the other filter forms: no rows until it is corrected
        elif query := form.cleaned_data["q"].casefold():
            shown = [p for p in plan if query in p.name.casefold()]
        else:
            shown = plan
        self.object_list = shown
        table = self.get_table()
        if plan:
            table.empty_text = _("No municipality to remind matches this search.")
        context = {
            "table": table,
            "filter": {"form": form},
            "planned_total": len(plan),
            "interval_days": REMINDER_INTERVAL.days,
            "mail_folder": kept_mail_folder(),
        }
        return render(request, self.template_name, context)


class ReminderPreviewView(KingStaffRequiredMixin, View):
    """One municipality's reminder mail exactly as the weekly run would send it now."""

    template_name = "reports/reminder_preview.html"

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        municipality = get_object_or_404(Municipality, slug=slug)
        now = timezone.now()
        plan = plan_reminders(now=now, municipality=municipality)
        planned = plan[0] if plan else None
        last = (
            None
            if planned
            else ReminderLog.objects.filter(municipality=municipality).first()
        )
        context = {
            "municipality": municipality,
            "planned": planned,
            "last_reminder": last,
            "next_possible": last.sent_at + REMINDER_INTERVAL if last else None,
            "reminded_recently": bool(last and now - last.sent_at < REMINDER_INTERVAL),
            "mail_folder": kept_mail_folder(),
        }
        return render(request, self.template_name, context)


# --- Import -----------------------------------------------------------------


class ImportView(KingStaffRequiredMixin, View):
    """Upload a file; it is read and checked, then the dry run is shown."""

    template_name = "reports/import_form.html"

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
    """The dry run of one uploaded batch, and the apply button."""

    template_name = "reports/import_preview.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = get_object_or_404(
            ImportBatch.objects.select_related("uploaded_by", "applied_by"), pk=pk
        )
        return self._render(batch)

    def _render(self, batch: ImportBatch, status: int = 200) -> HttpResponse:
        if batch.applied_at is not None:
            return self._render_applied(batch, status)
        plan, versions = import_service.dry_run_with_versions(batch.rows)
        codes = {c.cbs_code for c in plan.changes[:PREVIEW_LIMIT]}
        names = dict(
            Municipality.objects.filter(cbs_code__in=codes).values_list(
                "cbs_code", "name"
            )
        )
        context = {
            "batch": batch,
            "plan": plan,
            "errors": plan.errors[:PREVIEW_LIMIT],
            "more_errors": max(0, len(plan.errors) - PREVIEW_LIMIT),
            "changes": [
                (
                    change,
                    names.get(change.cbs_code, ""),
                    [_shown(field) for field in change.changes],
                )
                for change in plan.changes[:PREVIEW_LIMIT]
            ],
            "more_changes": max(0, len(plan.changes) - PREVIEW_LIMIT),
            # The apply checks that no status changed since this dry run.
            "seen_versions": signing.dumps(
                versions, salt=_versions_salt(batch), compress=True
            ),
        }
        return render(self.request, self.template_name, context, status=status)

    def _render_applied(self, batch: ImportBatch, status: int) -> HttpResponse:
        """What the apply did, from the history it wrote.

        A new dry run would only say that nothing is left to change, so an
        applied batch shows its own record instead.
        """
        applied = StatusChange.objects.filter(batch_id=batch.batch_id).select_related(
            "municipality", "block"
        )
        context = {
            "batch": batch,
            "applied_changes": applied.order_by("municipality__name", "block__code")[
                :PREVIEW_LIMIT
            ],
            "more_changes": max(0, batch.changed_count - PREVIEW_LIMIT),
        }
        return render(self.request, self.template_name, context, status=status)


def _versions_salt(batch: ImportBatch) -> str:
    return f"import-versions:{batch.uid}"


def _shown(field: FieldChange) -> tuple[str, str, str, str]:
    """(label, column, old, new) as the preview shows a changed field."""
    return (
        str(FIELD_LABELS.get(field.field, field.field)),
        field.field,
        _shown_value(field.field, field.old),
        _shown_value(field.field, field.new),
    )


def _shown_value(name: str, text: str) -> str:
    if not text:
        return ""
    if name == "level":
        try:
            return str(Level(text).label)
        except ValueError:
            return text
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
