from __future__ import annotations

import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from buildingblocks.levels import Confidence, Level
from nupportal.validity import ValidityPeriod, validity_constraints
from scoring.rules import requirement_applies

# Where no agreement-specific deadline is known, the end of the i-NUP programme.
PROGRAMME_END = datetime.date(2015, 1, 1)
# The start of the i-NUP programme (2011–2014, data/reference/README.md): the
# reference data's first versions apply from here, and the history starts here.
PROGRAMME_START = datetime.date(2011, 1, 1)


class ResultAgreementQuerySet(models.QuerySet):
    def with_deadline_source(self) -> ResultAgreementQuerySet:
        """Annotate `deadline_synthetic`: the current deadline comes from a
        synthetic (demo) postponement. Read by the `deadline_note` tag."""
        return self.annotate(
            deadline_synthetic=models.Exists(
                DeadlineRevision.objects.filter(
                    agreement=models.OuterRef("pk"),
                    new_deadline=models.OuterRef("deadline"),
                    synthetic=True,
                )
            )
        )


class ResultAgreement(models.Model):
    """One of the 19 i-NUP result agreements (resultaatafspraken), as reconstructed."""

    number = models.PositiveSmallIntegerField(
        _("number"),
        unique=True,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    original_deadline = models.DateField(_("original deadline"), default=PROGRAMME_END)
    deadline = models.DateField(
        _("current deadline"), default=PROGRAMME_END, db_index=True
    )
    # True when no deadline for this agreement was found and the programme end is used.
    deadline_is_reference = models.BooleanField(
        _("deadline is the programme end"), default=True
    )
    source = models.URLField(_("source"), max_length=400, blank=True)
    confidence = models.CharField(
        _("confidence"),
        max_length=6,
        choices=Confidence.choices,
        default=Confidence.MEDIUM,
    )
    source_note = models.TextField(_("note on the source"), blank=True)
    blocks = models.ManyToManyField(
        "buildingblocks.BuildingBlock",
        through="Requirement",
        related_name="agreements",
        verbose_name=_("required building blocks"),
    )

    objects = ResultAgreementQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        verbose_name = _("result agreement")
        verbose_name_plural = _("result agreements")

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("agreements:detail", kwargs={"number": self.number})

    @property
    def is_postponed(self) -> bool:
        """The current deadline differs from the original one (a revision)."""
        return self.deadline != self.original_deadline


class Requirement(ValidityPeriod):
    """A building block an agreement requires, and the level it must at least reach.

    Versioned (issue 14): a changed requirement is a new row from a date, the
    previous one ends that day; a withdrawn one ends. The compliance of a date
    uses the rows in force on it (`Requirement.objects.in_force(on)`).
    """

    VERSION_OF = ("agreement", "block")

    valid_from = models.DateField(_("valid from"), default=PROGRAMME_START)

    agreement = models.ForeignKey(
        ResultAgreement,
        on_delete=models.CASCADE,
        related_name="requirements",
        verbose_name=_("agreement"),
    )
    block = models.ForeignKey(
        "buildingblocks.BuildingBlock",
        on_delete=models.PROTECT,
        related_name="requirements",
        verbose_name=_("building block"),
    )
    minimum_level = models.CharField(
        _("minimum level"), max_length=16, choices=Level.choices, default=Level.IN_USE
    )
    # Applicability: only municipalities of at least this many inhabitants must
    # meet it (scoring.rules.requirement_applies); empty: every municipality.
    min_population = models.PositiveIntegerField(
        _("applies from (inhabitants)"),
        null=True,
        blank=True,
        help_text=_(
            "Only municipalities with at least this many inhabitants must meet "
            "this requirement. Leave empty when it applies to every municipality."
        ),
    )

    class Meta:
        ordering = ["agreement__number", "block__order", "valid_from"]
        verbose_name = _("requirement")
        verbose_name_plural = _("requirements")
        constraints = [
            *validity_constraints("requirement", ["agreement", "block"]),
            models.CheckConstraint(
                condition=Q(
                    minimum_level__in=[
                        Level.PREPARING,
                        Level.IMPLEMENTING,
                        Level.IN_USE,
                    ]
                ),
                name="requirement_level_countable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement.number}: {self.block} ≥ {self.get_minimum_level_display()}"

    def applies_to(self, population: int) -> bool:
        """Whether a municipality of `population` inhabitants must meet it."""
        return requirement_applies(self.min_population, population)


class DeadlineRevision(models.Model):
    """A postponement (or advancement) of an agreement's deadline."""

    agreement = models.ForeignKey(
        ResultAgreement,
        on_delete=models.CASCADE,
        related_name="revisions",
        verbose_name=_("agreement"),
    )
    old_deadline = models.DateField(_("old deadline"))
    new_deadline = models.DateField(_("new deadline"))
    decided_on = models.DateField(_("decided on"))
    reason = models.TextField(_("reason"))
    synthetic = models.BooleanField(
        _("synthetic (demo data)"),
        default=False,
        help_text=_("Invented for the demonstration; not a real decision."),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["agreement__number", "decided_on", "id"]
        verbose_name = _("deadline revision")
        verbose_name_plural = _("deadline revisions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(new_deadline=models.F("old_deadline")),
                name="revision_changes_deadline",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agreement.number}: {self.old_deadline} → {self.new_deadline}"


class ReminderLog(models.Model):
    """A weekly deadline reminder sent to the editors of one municipality.

    The reminder task reads the latest row per municipality so that editors get
    at most one reminder a week, even when the task runs twice.
    """

    municipality = models.ForeignKey(
        "municipalities.Municipality",
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("municipality"),
    )
    sent_at = models.DateTimeField(_("sent at"), db_index=True)
    recipients = models.PositiveSmallIntegerField(_("recipients"), default=0)
    # Numbers of the agreements at risk or overdue when it was sent.
    agreements = models.JSONField(_("agreements"), default=list, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("deadline reminder")
        verbose_name_plural = _("deadline reminders")
        indexes = [models.Index(fields=["municipality", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.municipality_id} @ {self.sent_at:%Y-%m-%d %H:%M}"
