from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    """A report requested by KING staff, generated in the background by a Celery task."""

    class Kind(models.TextChoices):
        PROGRESS = "progress", _("Progress report (PDF)")
        COMPLIANCE = "compliance", _("Compliance with result agreements (XLSX)")
        LAGGARDS = "laggards", _("Laggards (XLSX)")
        FULL_CSV = "full_csv", _("Full export (CSV)")
        FULL_XLSX = "full_xlsx", _("Full export (XLSX)")
        SCORECARD = "scorecard", _("Scorecard of one municipality (PDF)")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("report"), max_length=12, choices=Kind.choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=State.choices, default=State.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error = models.TextField(_("reason of failure"), blank=True)
    file = models.FileField(_("file"), upload_to="reports/%Y/%m/", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.requested_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self) -> str:
        return reverse("reports:detail", kwargs={"pk": self.pk})

    @property
    def extension(self) -> str:
        return {
            self.Kind.PROGRESS: "pdf",
            self.Kind.SCORECARD: "pdf",
            self.Kind.FULL_CSV: "csv",
        }.get(self.kind, "xlsx")

    @property
    def report_date(self) -> str:
        """The date in the file name: the reference date, else the request date."""
        reference = self.parameters.get("reference_date")
        if reference:
            return reference
        return (self.requested_at or timezone.now()).astimezone().date().isoformat()

    @property
    def download_name(self) -> str:
        return f"{self.kind.replace('_', '-')}-{self.report_date}.{self.extension}"

    @property
    def storage_name(self) -> str:
        """Where the file is stored: type and date, plus the id so names never collide."""
        return f"reports/{self.kind.replace('_', '-')}-{self.report_date}-{self.pk}.{self.extension}"
