"""The shapes of the API's responses and query parameters (lowerCamelCase throughout).

The views build plain dicts (from annotated querysets or reconstructed figures)
and pass them through these serializers, so the OpenAPI document generated
from them is what the API really returns.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rest_framework import serializers

from buildingblocks.levels import Category, Level
from municipalities.filters import LEVEL_FILTER_CHOICES
from municipalities.sizeclasses import SizeClass
from scoring.models import ComplianceStatus

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


def camel(value: str) -> str:
    """`on_track` → `onTrack`: choice values as lowerCamelCase property names."""
    head, *rest = value.split("_")
    return head + "".join(part.title() for part in rest)


def method_version_field() -> serializers.CharField:
    """The version of the scoring method behind an object's scores and figures."""
    return serializers.CharField(
        allow_null=True,
        help_text=_(
            "Version of the scoring method that produced these figures (the "
            "changelog is on the method page, /methode/). Today, and for the "
            "figures of blocks, agreements and the country on a month end: the "
            "version stored with them; a municipality's scores on any reference "
            "date and every figure on another day: the current method, which "
            "rebuilt them from the history. Empty when no figures have been "
            "computed yet."
        ),
    )


class StatusCountsField(serializers.DictField):
    """Municipalities (or agreements) per compliance status, one key per status."""

    child = serializers.IntegerField(min_value=0)


class ReferenceDateSerializer(serializers.Serializer):
    peildatum = serializers.DateField(
        required=False,
        help_text=_(
            "Reference date (YYYY-MM-DD): the figures as they stood at the end of "
            "that day, rebuilt from the history of status changes."
        ),
    )

    def validate_peildatum(self, value):
        from django.utils import timezone

        if value > timezone.localdate():
            raise serializers.ValidationError(_("The reference date is in the future."))
        return value


SORT_CHOICES = ["naam", "-naam", "score", "-score", "inwoners", "-inwoners"]


class MunicipalityListParamsSerializer(ReferenceDateSerializer):
    """Query parameters of /gemeenten: the filters of the /gemeenten/ page."""

    zoek = serializers.CharField(
        required=False, max_length=100, help_text=_("Name or CBS code")
    )
    provincie = serializers.CharField(
        required=False, max_length=60, help_text=_("Province (slug, e.g. utrecht)")
    )
    grootteklasse = serializers.ChoiceField(
        choices=SizeClass.choices, required=False, help_text=_("Size class")
    )
    scoreMin = serializers.FloatField(required=False, min_value=0, max_value=100)
    scoreMax = serializers.FloatField(required=False, min_value=0, max_value=100)
    bouwsteen = serializers.CharField(
        required=False, max_length=40, help_text=_("Building block code (with niveau)")
    )
    niveau = serializers.ChoiceField(
        choices=LEVEL_FILTER_CHOICES, required=False, help_text=_("Level")
    )
    resultaatafspraak = serializers.IntegerField(
        required=False, min_value=1, max_value=32767, help_text=_("Agreement number")
    )
    afspraakstatus = serializers.ChoiceField(
        choices=ComplianceStatus.choices,
        required=False,
        help_text=_("Agreement status (of resultaatafspraak, or of any agreement)"),
    )
    sorteer = serializers.ChoiceField(choices=SORT_CHOICES, required=False)
    pagina = serializers.IntegerField(required=False, min_value=1, max_value=100_000)
    paginaGrootte = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE
    )


class LinkSerializer(serializers.Serializer):
    href = serializers.URLField()


class MunicipalitySummarySerializer(serializers.Serializer):
    cbsCode = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    province = serializers.CharField(help_text=_("Province slug"))
    provinceName = serializers.CharField()
    sizeClass = serializers.CharField(allow_blank=True)
    population = serializers.IntegerField(help_text=_("Current population (CBS)"))
    adoptionScore = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(
        allow_null=True, help_text=_("Current rank; empty for a reference date")
    )
    agreementStatusCounts = StatusCountsField()
    methodVersion = method_version_field()
    url = serializers.URLField(help_text=_("This municipality in the API"))


class PageLinksSerializer(serializers.Serializer):
    self = LinkSerializer()
    first = LinkSerializer()
    last = LinkSerializer()
    prev = LinkSerializer(required=False)
    next = LinkSerializer(required=False)


class MunicipalityPageSerializer(serializers.Serializer):
    peildatum = serializers.DateField(allow_null=True)
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pageSize = serializers.IntegerField()
    _links = PageLinksSerializer()
    results = MunicipalitySummarySerializer(many=True)


class BlockStatusSerializer(serializers.Serializer):
    block = serializers.CharField(help_text=_("Building block code"))
    blockName = serializers.CharField()
    level = serializers.ChoiceField(choices=Level.choices)
    plannedDate = serializers.DateField(allow_null=True)
    achievedDate = serializers.DateField(
        allow_null=True, help_text=_("Empty for a reference date")
    )
    note = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Only for logged-in users")
    )
    evidenceUrl = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Only for logged-in users")
    )


class AgreementStatusSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    deadline = serializers.DateField()
    status = serializers.ChoiceField(choices=ComplianceStatus.choices, allow_null=True)


class MunicipalityDetailSerializer(MunicipalitySummarySerializer):
    peildatum = serializers.DateField(allow_null=True)
    populationDate = serializers.DateField(allow_null=True)
    active = serializers.BooleanField()
    statuses = BlockStatusSerializer(many=True)
    agreements = AgreementStatusSerializer(many=True)


class BlockSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    nameEn = serializers.CharField(allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices)
    owner = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    weight = serializers.FloatField()
    source = serializers.CharField(allow_blank=True)
    confidence = serializers.CharField()
    inUseShare = serializers.FloatField(
        allow_null=True, help_text=_("Share of municipalities in use, 0 to 1")
    )
    coverage = serializers.FloatField(
        allow_null=True, help_text=_("Share of inhabitants covered, 0 to 1")
    )
    methodVersion = method_version_field()


class BlockListSerializer(serializers.Serializer):
    peildatum = serializers.DateField(allow_null=True)
    results = BlockSerializer(many=True)


class BlockDetailSerializer(BlockSerializer):
    peildatum = serializers.DateField(allow_null=True)


class RequirementSerializer(serializers.Serializer):
    block = serializers.CharField()
    minimumLevel = serializers.ChoiceField(choices=Level.choices)


class RevisionSerializer(serializers.Serializer):
    oldDeadline = serializers.DateField()
    newDeadline = serializers.DateField()
    decidedOn = serializers.DateField()
    reason = serializers.CharField()
    synthetic = serializers.BooleanField()


class AgreementSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    titleEn = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    originalDeadline = serializers.DateField()
    deadline = serializers.DateField(help_text=_("The deadline in force"))
    deadlineIsReference = serializers.BooleanField()
    source = serializers.CharField(allow_blank=True)
    confidence = serializers.CharField()
    requirements = RequirementSerializer(many=True)
    revisions = RevisionSerializer(many=True)
    complianceShare = serializers.FloatField(allow_null=True)
    statusCounts = StatusCountsField()
    methodVersion = method_version_field()


class AgreementListSerializer(serializers.Serializer):
    peildatum = serializers.DateField(allow_null=True)
    results = AgreementSerializer(many=True)


class AgreementDetailSerializer(AgreementSerializer):
    peildatum = serializers.DateField(allow_null=True)


SCOPE_CHOICES = ["nederland", "grootteklasse", "provincie"]


class FiguresParamsSerializer(ReferenceDateSerializer):
    schaal = serializers.ChoiceField(
        choices=SCOPE_CHOICES,
        required=False,
        help_text=_("Only the country, the size classes or the provinces"),
    )


class BlockFigureSerializer(serializers.Serializer):
    block = serializers.CharField()
    inUseShare = serializers.FloatField(allow_null=True)
    coverage = serializers.FloatField(allow_null=True)


class AgreementFigureSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    complianceShare = serializers.FloatField(allow_null=True)
    statusCounts = StatusCountsField()


class ScopeFiguresSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=SCOPE_CHOICES)
    key = serializers.CharField(
        allow_blank=True, help_text=_("Size class or province slug; empty for NL")
    )
    municipalities = serializers.IntegerField(allow_null=True)
    meanScore = serializers.FloatField(allow_null=True)
    medianScore = serializers.FloatField(allow_null=True)
    allAgreementsMet = serializers.IntegerField(allow_null=True)
    methodVersion = method_version_field()
    blocks = BlockFigureSerializer(many=True)
    agreements = AgreementFigureSerializer(many=True)


class FiguresSerializer(serializers.Serializer):
    peildatum = serializers.DateField(allow_null=True)
    results = ScopeFiguresSerializer(many=True)


class TrendParamsSerializer(serializers.Serializer):
    schaal = serializers.ChoiceField(choices=SCOPE_CHOICES, required=False)
    sleutel = serializers.CharField(
        required=False, max_length=60, help_text=_("Size class or province slug")
    )
    vanaf = serializers.DateField(required=False, help_text=_("First month"))
    tot = serializers.DateField(required=False, help_text=_("Last month"))


class TrendPointSerializer(serializers.Serializer):
    month = serializers.DateField(help_text=_("First day of the month"))
    municipalities = serializers.IntegerField(allow_null=True)
    meanScore = serializers.FloatField(allow_null=True)
    medianScore = serializers.FloatField(allow_null=True)
    allAgreementsMet = serializers.IntegerField(allow_null=True)
    methodVersion = method_version_field()


class TrendSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=SCOPE_CHOICES)
    key = serializers.CharField(allow_blank=True)
    results = TrendPointSerializer(many=True)
