"""Derived figures: written only by scoring.compute, read by every dashboard."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from scoring.method_version import current_method_version


class ComplianceStatus(models.TextChoices):
    MET = "met", _("Met")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OVERDUE = "overdue", _("Overdue")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


# The statuses that call for action (reminders, laggard lists, "at risk or overdue"):
# the one definition; Python and SQL alike use it (tests/test_architecture.py).
LAGGING_STATUSES: tuple[str, ...] = (
    ComplianceStatus.AT_RISK.value,
    ComplianceStatus.OVERDUE.value,
)


class ComplianceReason(models.TextChoices):
    """Why an agreement is at risk or overdue (scoring.rules.agreement_outcome)."""

    UNPLANNED = "unplanned", _("not planned")
    PLANNED_LATE = "planned_late", _("planned after the deadline")
    PLAN_EXPIRED = "plan_expired", _("plan expired")
    DEADLINE_PASSED = "deadline_passed", _("deadline passed")


class Scope(models.TextChoices):
    NATIONAL = "national", _("Netherlands")
    SIZE_CLASS = "size_class", _("size class")
    PROVINCE = "province", _("province")


class Measure(models.TextChoices):
    MUNICIPALITIES = "municipalities", _("municipalities")
    MEAN_SCORE = "mean_score", _("mean score")
    MEDIAN_SCORE = "median_score", _("median score")
    IN_USE_SHARE = "in_use_share", _("share of municipalities in use")
    COVERAGE = "coverage", _("share of inhabitants covered")
    COMPLIANCE_SHARE = "compliance_share", _("share of municipalities that meet it")
    ALL_MET = "all_met", _("municipalities meeting every agreement")
    STATUS_COUNT = "status_count", _("municipalities with this agreement status")
    EXEMPTED = "exempted", _("municipalities meeting it on an exemption")
    APPLICABLE = "applicable", _("municipalities to which it applies")


class MunicipalityScore(models.Model):
    """The current adoption score of one municipality and its agreement counts."""

    municipality = models.OneToOneField(
        "municipalities.Municipality",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="score",
        verbose_name=_("municipality"),
    )
    score = models.FloatField(_("adoption score"), null=True, db_index=True)
    rank = models.PositiveIntegerField(_("rank"), null=True)
    agreements_met = models.PositiveSmallIntegerField(_("agreements met"), default=0)
    agreements_on_track = models.PositiveSmallIntegerField(
        _("agreements on track"), default=0
    )
    agreements_at_risk = models.PositiveSmallIntegerField(
        _("agreements at risk"), default=0
    )
    agreements_overdue = models.PositiveSmallIntegerField(
        _("agreements overdue"), default=0
    )
    agreements_not_applicable = models.PositiveSmallIntegerField(
        _("agreements not applicable"), default=0
    )
    # Of agreements_met: those that rest on a required block marked not applicable.
    agreements_exempted = models.PositiveSmallIntegerField(
        _("agreements met on an exemption"), default=0
    )
    category_scores = models.JSONField(_("score per category"), default=dict)
    last_status_update = models.DateTimeField(_("last status update"), null=True)
    computed_at = models.DateTimeField(_("computed at"))
    # The scoring method this row was computed with (scoring.method_version).
    method_version = models.CharField(
        _("method version"), max_length=10, default=current_method_version
    )

    class Meta:
        ordering = ["-score"]
        verbose_name = _("municipality score")
        verbose_name_plural = _("municipality scores")

    def __str__(self) -> str:
        return f"{self.municipality_id}: {self.score}"

    @staticmethod
    def agreement_count_fields() -> dict[str, str]:
        """The field that counts the agreements of each status."""
        return {
            ComplianceStatus.MET: "agreements_met",
            ComplianceStatus.ON_TRACK: "agreements_on_track",
            ComplianceStatus.AT_RISK: "agreements_at_risk",
            ComplianceStatus.OVERDUE: "agreements_overdue",
            ComplianceStatus.NOT_APPLICABLE: "agreements_not_applicable",
        }

    def is_stale(self, newest_status_update: datetime.datetime | None) -> bool:
        """True when a status was saved after these figures were computed.

        A save whose recompute could not be queued (broker down) leaves the score
        behind until the catch-up task runs; the scorecard says so.
        """
        if newest_status_update is None:
            return False
        return (
            self.last_status_update is None
            or newest_status_update > self.last_status_update
        )


class AgreementCompliance(models.Model):
    """The status of one agreement for one municipality, as last computed.

    Written only by scoring.compute, from existing municipalities and agreements:
    no database FK checks (a first recompute at 10,000 municipalities inserts
    190,000 rows and checked 380,000 references at commit, 1.5 s); deleting a
    municipality or agreement still deletes its rows (Django's cascade). No
    separate index per column either: the unique constraint leads with the
    municipality, the (agreement, status) index with the agreement.
    """

    municipality = models.ForeignKey(
        "municipalities.Municipality",
        on_delete=models.CASCADE,
        related_name="compliance",
        verbose_name=_("municipality"),
        db_constraint=False,
        db_index=False,
    )
    agreement = models.ForeignKey(
        "agreements.ResultAgreement",
        on_delete=models.CASCADE,
        related_name="compliance",
        verbose_name=_("agreement"),
        db_constraint=False,
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=14, choices=ComplianceStatus.choices
    )
    reason = models.CharField(
        _("reason"), max_length=15, choices=ComplianceReason.choices, blank=True
    )
    # The date whose passing made it overdue or at risk: the deadline (deadline
    # passed) or the earliest expired planned date (plan expired).
    lapsed_on = models.DateField(_("lapsed on"), null=True, blank=True)
    # A "met" that rests on a required block marked not applicable.
    exempted = models.BooleanField(_("met on an exemption"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["agreement__number"]
        verbose_name = _("agreement compliance")
        verbose_name_plural = _("agreement compliance")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "agreement"], name="compliance_unique"
            )
        ]
        indexes = [models.Index(fields=["agreement", "status"])]

    def __str__(self) -> str:
        return f"{self.municipality_id} · {self.agreement_id}: {self.status}"


def unchecked_reference(to: str, on_delete) -> models.ForeignKey:
    """An optional reference of a derived figure that the database does not check."""
    return models.ForeignKey(
        to, on_delete=on_delete, null=True, related_name="+", db_constraint=False
    )


class FigureBase(models.Model):
    """One aggregate number: a measure for a scope (country, size class, province)."""

    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    # '' for national, the size-class code, or the province slug.
    key = models.CharField(_("key"), max_length=60, blank=True)
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    # `block` and `agreement`: see the concrete models (unchecked_reference).
    # For STATUS_COUNT: which compliance status is counted.
    status = models.CharField(max_length=14, blank=True)
    value = models.FloatField(_("value"), null=True)

    class Meta:
        abstract = True


class Aggregate(FigureBase):
    """Current aggregate figures, rewritten by every full recompute."""

    # Every recompute rewrites these rows from the current blocks and agreements,
    # so the database need not check the references: its deferred checks of the
    # ~3,600 rows at commit cost ~20 ms of a 10,000-municipality recompute
    # (`make bench`). Deleting a block or agreement still deletes its rows
    # (Django's cascade).
    block = unchecked_reference("buildingblocks.BuildingBlock", models.CASCADE)
    agreement = unchecked_reference("agreements.ResultAgreement", models.CASCADE)
    computed_at = models.DateTimeField(_("computed at"))
    # The scoring method of the recompute that wrote it (scoring.method_version):
    # every recompute rewrites all rows, so they share one version.
    method_version = models.CharField(
        _("method version"), max_length=10, default=current_method_version
    )

    class Meta:
        verbose_name = _("aggregate figure")
        verbose_name_plural = _("aggregate figures")
        indexes = [models.Index(fields=["measure", "scope", "key"])]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} {self.measure} = {self.value}"


class Snapshot(FigureBase):
    """An aggregate figure as it stood at the end of a month, derived from the history."""

    month = models.DateField(_("month"))
    computed_at = models.DateTimeField(_("computed at"))
    # The scoring method of the rebuild that made it (scoring.method_version).
    method_version = models.CharField(
        _("method version"), max_length=10, default=current_method_version
    )
    # Fifteen years are ~500,000 rows rewritten by snapshot_scores in one COPY;
    # per-row foreign-key checks would double that cost. Blocks and agreements
    # are never deleted while snapshots refer to them (requirements PROTECT
    # blocks), and a rebuild rewrites every row anyway.
    block = unchecked_reference("buildingblocks.BuildingBlock", models.DO_NOTHING)
    agreement = unchecked_reference("agreements.ResultAgreement", models.DO_NOTHING)

    class Meta:
        ordering = ["month"]
        verbose_name = _("monthly snapshot")
        verbose_name_plural = _("monthly snapshots")
        indexes = [models.Index(fields=["measure", "scope", "month"])]

    def __str__(self) -> str:
        return (
            f"{self.month:%Y-%m} {self.scope}:{self.key} {self.measure} = {self.value}"
        )
