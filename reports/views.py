"""KING staff pages: reports on demand and the reminder plan.

Every view here is for KING staff (anonymous → login, other roles → 403), except
that a municipality's editors may request, follow and download the scorecard PDF
of their own municipality.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
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
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from django_tables2 import SingleTableMixin

from agreements.models import ReminderLog
from agreements.reminders import REMINDER_INTERVAL, kept_mail_folder, plan_reminders
from municipalities.models import Municipality
from municipalities.permissions import KingStaffRequiredMixin
from municipalities.roles import is_king_staff
from nupportal.audit import audit
from nupportal.pagination import pagination
from reports.forms import ReminderFilterForm, ReportRequestForm
from reports.models import Report
from reports.tables import PlannedReminderTable, ReportTable
from reports.tasks import enqueue_report


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
