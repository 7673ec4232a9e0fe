from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from buildingblocks.levels import Category, Confidence, Level
from nupportal.validity import ValidityPeriod, validity_constraints


def weight_field(**options) -> models.DecimalField:
    """A block's weight in the score, on the block (today's) and on each version."""
    return models.DecimalField(
        _("weight"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        **options,
    )


class BuildingBlock(models.Model):
    """A NUP building block (bouwsteen) that municipalities adopt.

    `weight` and `active` are those of the version in force today
    (`BlockVersion`); buildingblocks.versions writes them together with the
    versions. Pages read them; the scores and the history read the versions.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    # The column header of the matrix, where 27 full names do not fit.
    short_name = models.CharField(
        _("short name"),
        max_length=16,
        blank=True,
        help_text=_("Abbreviation for narrow columns (matrix); the name when empty."),
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    owner = models.CharField(_("owner organisation"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    weight = weight_field(default=Decimal("1"))
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    source = models.URLField(_("source"), max_length=400, blank=True)
    confidence = models.CharField(
        _("confidence"),
        max_length=6,
        choices=Confidence.choices,
        default=Confidence.MEDIUM,
    )

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("building block")
        verbose_name_plural = _("building blocks")
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gt=0), name="buildingblock_weight_positive"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("buildingblocks:detail", kwargs={"code": self.code})

    @property
    def abbreviation(self) -> str:
        """The short name for a narrow column header; the (English) name when none."""
        if self.short_name:
            return self.short_name
        if get_language() == "en" and self.name_en:
            return self.name_en
        return self.name


class BlockVersion(ValidityPeriod):
    """A block's weight and active flag over a period: changing them never rewrites
    the past (issue 14). The scores of a date use the version in force on it."""

    VERSION_OF = ("block",)

    block = models.ForeignKey(
        BuildingBlock,
        on_delete=models.CASCADE,
        related_name="versions",
        verbose_name=_("building block"),
    )
    weight = weight_field()
    active = models.BooleanField(_("active"))

    class Meta:
        ordering = ["block__order", "block__code", "valid_from"]
        verbose_name = _("building block version")
        verbose_name_plural = _("building block versions")
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gt=0), name="blockversion_weight_positive"
            ),
            *validity_constraints("blockversion", ["block"]),
        ]

    def __str__(self) -> str:
        until = self.valid_until.isoformat() if self.valid_until else "…"
        return (
            f"{self.block_id}: {self.weight} {self.active} [{self.valid_from}, {until})"
        )


class AdoptionStatus(models.Model):
    """Where one municipality stands with one building block now."""

    municipality = models.ForeignKey(
        "municipalities.Municipality",
        on_delete=models.CASCADE,
        related_name="statuses",
        verbose_name=_("municipality"),
    )
    block = models.ForeignKey(
        BuildingBlock,
        on_delete=models.CASCADE,
        related_name="statuses",
        verbose_name=_("building block"),
    )
    level = models.CharField(
        _("level"), max_length=16, choices=Level.choices, default=Level.NOT_STARTED
    )
    planned_date = models.DateField(_("planned date"), null=True, blank=True)
    achieved_date = models.DateField(_("achieved date"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    evidence_url = models.URLField(
        _("evidence URL"),
        max_length=500,
        blank=True,
        validators=[URLValidator(schemes=["http", "https"])],
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    # Optimistic locking: a save must name the version it was loaded with.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        ordering = ["municipality__name", "block__order"]
        verbose_name = _("adoption status")
        verbose_name_plural = _("adoption statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "block"], name="status_unique_per_block"
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="status_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(achieved_date__isnull=True) | Q(level=Level.IN_USE),
                name="status_achieved_only_in_use",
            ),
            models.CheckConstraint(
                condition=~Q(level=Level.NOT_APPLICABLE) | ~Q(note=""),
                name="status_not_applicable_needs_note",
            ),
        ]
        indexes = [models.Index(fields=["block", "level"])]

    def __str__(self) -> str:
        return f"{self.municipality} · {self.block}: {self.get_level_display()}"

    @classmethod
    def past_row(
        cls, municipality, block: BuildingBlock, level: str, planned_date
    ) -> AdoptionStatus:
        """An unsaved row showing a replayed past state in a status table (time
        travel). Never saved: statuses are written by buildingblocks.services."""
        return cls(
            municipality=municipality,
            block=block,
            level=level,
            planned_date=planned_date,
        )


class StatusChangeQuerySet(models.QuerySet):
    """History is append-only: bulk updates and deletes are refused."""

    def update(self, **kwargs):
        raise PermissionError("StatusChange history is append-only.")

    def delete(self):
        raise PermissionError("StatusChange history is append-only.")


class StatusChange(models.Model):
    """One change of an adoption status; the history from which any past state is rebuilt."""

    class Source(models.TextChoices):
        FORM = "form", _("status editor")
        IMPORT = "import", _("import")
        MERGER = "merger", _("merger")
        ADMIN = "admin", _("admin")
        SEED = "seed", _("demo data")

    municipality = models.ForeignKey(
        "municipalities.Municipality",
        on_delete=models.PROTECT,
        related_name="status_changes",
        verbose_name=_("municipality"),
    )
    block = models.ForeignKey(
        BuildingBlock,
        on_delete=models.PROTECT,
        related_name="status_changes",
        verbose_name=_("building block"),
    )
    from_level = models.CharField(
        _("from level"), max_length=16, choices=Level.choices, blank=True
    )
    to_level = models.CharField(_("to level"), max_length=16, choices=Level.choices)
    from_planned_date = models.DateField(
        _("previous planned date"), null=True, blank=True
    )
    to_planned_date = models.DateField(_("planned date"), null=True, blank=True)
    from_achieved_date = models.DateField(
        _("previous achieved date"), null=True, blank=True
    )
    to_achieved_date = models.DateField(_("achieved date"), null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    # When the change took effect; the state on a date is the last change on or before it.
    changed_at = models.DateTimeField(_("changed at"), db_index=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    note = models.TextField(_("note"), blank=True)
    batch_id = models.CharField(_("batch"), max_length=40, blank=True, db_index=True)

    objects = StatusChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        constraints = [
            models.CheckConstraint(
                condition=Q(to_level__in=Level.values), name="change_level_valid"
            ),
        ]
        indexes = [models.Index(fields=["municipality", "block", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.municipality} · {self.block}: {self.from_level or '—'} → {self.to_level}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError("StatusChange history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("StatusChange history is append-only.")


class ImportBatch(models.Model):
    """An uploaded import file, kept between the dry run and the apply.

    Holds the rows as read from the file (text per column, with their row
    numbers), not the planned changes: the dry run and the apply both check the
    rows against the statuses as they are at that moment.
    """

    uid = models.UUIDField(
        _("batch id"), default=uuid.uuid4, unique=True, editable=False
    )
    filename = models.CharField(_("file name"), max_length=255)
    checksum = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    rows = models.JSONField(_("rows"), default=list)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("applied by"),
    )
    changed_count = models.PositiveIntegerField(_("statuses changed"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        # Made in the reports app; the table kept its name when the model moved
        # here, so no row had to be copied.
        db_table = "reports_importbatch"

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self) -> str:
        return reverse("buildingblocks:import-preview", kwargs={"pk": self.pk})

    @property
    def batch_id(self) -> str:
        """The id written into StatusChange.batch_id."""
        return f"import-{self.uid.hex}"


def sync_current(
    block_ids: Iterable[int] | None = None, *, today: datetime.date | None = None
) -> int:
    """Copy the versions in force today onto their blocks; return blocks changed.

    Beside the models because both the admin's versions (buildingblocks.versions)
    and the reference-data loader (municipalities.reference) need it.

    A block without a version in force today is inactive (weight unchanged).
    """
    today = today or timezone.localdate()
    blocks = BuildingBlock.objects.all()
    if block_ids is not None:
        blocks = blocks.filter(pk__in=list(block_ids))
    current = {
        block_id: (weight, active)
        for block_id, weight, active in BlockVersion.objects.in_force(
            today
        ).values_list("block_id", "weight", "active")
    }
    changed = []
    for block in blocks.only("pk", "weight", "active"):
        weight, active = current.get(block.pk, (block.weight, False))
        if (block.weight, block.active) != (weight, active):
            block.weight, block.active = weight, active
            changed.append(block)
    if changed:
        BuildingBlock.objects.bulk_update(changed, ["weight", "active"])
    return len(changed)
