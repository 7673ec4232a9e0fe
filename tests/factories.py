"""factory_boy factories for the portal's models."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

import factory

from agreements.models import (
    PROGRAMME_START,
    DeadlineRevision,
    Requirement,
    ResultAgreement,
)
from buildingblocks.levels import Category, Level
from buildingblocks.models import AdoptionStatus, BuildingBlock, StatusChange
from buildingblocks.versions import initial_versions
from municipalities.models import EditorMembership, Municipality, Province


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Province
        django_get_or_create = ("name",)

    name = factory.Iterator(["Utrecht", "Gelderland", "Noord-Holland", "Fryslân"])
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace("â", "a"))


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality

    cbs_code = factory.Sequence(lambda n: f"GM{9000 - n % 9000:04d}")
    name = factory.Sequence(lambda n: f"Gemeente {n}")
    slug = factory.Sequence(lambda n: f"gemeente-{n}")
    province = factory.SubFactory(ProvinceFactory)
    population = 25_000
    population_date = datetime.date(2025, 1, 1)


class BuildingBlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BuildingBlock
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"block{n}")
    name = factory.Sequence(lambda n: f"Bouwsteen {n}")
    name_en = factory.Sequence(lambda n: f"Building block {n}")
    category = Category.AUTHENTICATION
    order = factory.Sequence(lambda n: n)

    @factory.post_generation
    def versions_from(self, create, extracted, **kwargs):
        """Its weight and flag as one version from the programme start (or the
        date given as `versions_from`), as the reference-data loader does."""
        if create:
            initial_versions([self], extracted or PROGRAMME_START)


class AdoptionStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdoptionStatus

    municipality = factory.SubFactory(MunicipalityFactory)
    block = factory.SubFactory(BuildingBlockFactory)
    level = Level.NOT_STARTED


class StatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusChange

    municipality = factory.SubFactory(MunicipalityFactory)
    block = factory.SubFactory(BuildingBlockFactory)
    from_level = ""
    to_level = Level.IN_USE
    changed_at = factory.LazyFunction(timezone.now)
    source = StatusChange.Source.FORM


class ResultAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResultAgreement

    number = factory.Sequence(lambda n: n % 99 + 1)
    title = factory.Sequence(lambda n: f"Afspraak {n}")
    title_en = factory.Sequence(lambda n: f"Agreement {n}")


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requirement

    agreement = factory.SubFactory(ResultAgreementFactory)
    block = factory.SubFactory(BuildingBlockFactory)
    minimum_level = Level.IN_USE


class DeadlineRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeadlineRevision

    agreement = factory.SubFactory(ResultAgreementFactory)
    old_deadline = datetime.date(2015, 1, 1)
    new_deadline = datetime.date(2016, 1, 1)
    decided_on = datetime.date(2014, 6, 1)
    reason = "Uitstel"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.nl")
    password = factory.django.Password("demo")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            for name in extracted:
                self.groups.add(Group.objects.get_or_create(name=name)[0])


class EditorMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EditorMembership

    user = factory.SubFactory(UserFactory, groups=["municipal_editor"])
    municipality = factory.SubFactory(MunicipalityFactory)
