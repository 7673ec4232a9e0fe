from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from municipalities.sizeclasses import SizeClass, size_class_for

CBS_CODE_REGEX = r"^GM[0-9]{4}$"


class Province(models.Model):
    """One of the twelve provinces; municipalities are compared per province."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name


class MunicipalityQuerySet(models.QuerySet):
    def active(self) -> MunicipalityQuerySet:
        return self.filter(active=True)


class Municipality(models.Model):
    """A municipality (gemeente), identified by its CBS code; merged ones stay inactive."""

    cbs_code = models.CharField(
        _("CBS code"),
        max_length=6,
        unique=True,
        validators=[
            RegexValidator(
                CBS_CODE_REGEX, _("A CBS code is GM followed by four digits.")
            )
        ],
    )
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="municipalities",
        verbose_name=_("province"),
    )
    population = models.PositiveIntegerField(_("population"), default=0)
    population_date = models.DateField(_("population on"), null=True, blank=True)
    size_class = models.CharField(
        _("size class"),
        max_length=2,
        choices=SizeClass.choices,
        editable=False,
        db_index=True,
    )
    active = models.BooleanField(_("active"), default=True, db_index=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecessors",
        verbose_name=_("successor"),
    )
    # SVG path data in the map's projection, prepared when the reference data is loaded.
    map_path = models.TextField(_("map outline"), blank=True, editable=False)
    source = models.CharField(_("source"), max_length=300, blank=True)

    objects = MunicipalityQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        constraints = [
            models.CheckConstraint(
                condition=Q(cbs_code__regex=CBS_CODE_REGEX),
                name="municipality_cbs_code_format",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="municipality_valid_period",
            ),
        ]
        indexes = [models.Index(fields=["province", "size_class"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.size_class = size_class_for(self.population)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("municipalities:detail", kwargs={"slug": self.slug})


class Merger(models.Model):
    """A municipal merger (herindeling): municipalities that go up in a successor on a date."""

    date = models.DateField(_("date"))
    successor = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="mergers_in",
        verbose_name=_("successor"),
    )
    merged = models.ManyToManyField(
        Municipality,
        related_name="mergers_out",
        verbose_name=_("merged municipalities"),
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        ordering = ["-date", "successor__name"]
        verbose_name = _("merger")
        verbose_name_plural = _("mergers")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "successor"], name="merger_unique_per_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.successor} ({self.date:%Y-%m-%d})"


class EditorMembership(models.Model):
    """Gives a user (a municipal CIO) the right to edit one municipality's statuses."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="editor_memberships",
        verbose_name=_("user"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="editor_memberships",
        verbose_name=_("municipality"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["municipality__name", "user__username"]
        verbose_name = _("editor membership")
        verbose_name_plural = _("editor memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "municipality"], name="editor_membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.municipality}"


class ColumnPreference(models.Model):
    """The columns a user last chose for one wide table (/gemeenten/, history, matrix).

    Only the choice itself: which columns exist, which are shown by default and
    how ?kolommen= is read is nupportal.columns.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="column_preferences",
        verbose_name=_("user"),
    )
    table = models.SlugField(_("table"), max_length=40)
    columns = models.JSONField(_("columns"), default=list)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["user", "table"]
        verbose_name = _("column preference")
        verbose_name_plural = _("column preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "table"], name="column_preference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.table}"

    @classmethod
    def remembered(cls, user, table: str) -> list[str]:
        """The user's last choice for this table; [] for none (or anonymous)."""
        if not user.is_authenticated:
            return []
        columns = (
            cls.objects.filter(user=user, table=table)
            .values_list("columns", flat=True)
            .first()
        )
        return [str(name) for name in columns] if isinstance(columns, list) else []

    @classmethod
    def remember(cls, user, table: str, columns: list[str]) -> None:
        """Keep this choice for the user (nothing for anonymous users)."""
        if user.is_authenticated:
            cls.objects.update_or_create(
                user=user, table=table, defaults={"columns": list(columns)}
            )
