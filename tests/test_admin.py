"""The Django admin: every registered model's pages render; history stays read-only."""

from __future__ import annotations

import datetime

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, ImportBatch, StatusChange
from buildingblocks.services import StatusConflict, StatusEdit, save_statuses
from buildingblocks.validation import StatusValues
from municipalities.models import ColumnPreference, Merger
from reports.models import Report
from scoring.models import (
    Aggregate,
    AgreementCompliance,
    ComplianceStatus,
    Measure,
    MunicipalityScore,
    Scope,
    Snapshot,
)
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    DeadlineRevisionFactory,
    EditorMembershipFactory,
    MunicipalityFactory,
    RequirementFactory,
    StatusChangeFactory,
    UserFactory,
)

PORTAL_APPS = ("municipalities", "buildingblocks", "agreements", "scoring", "reports")
# The portal's models plus users and groups; third-party admins test themselves.
REGISTERED = sorted(
    (
        model
        for model in admin.site._registry  # noqa: SLF001
        if model._meta.app_label in (*PORTAL_APPS, "auth")
    ),
    key=lambda model: model._meta.label,
)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.nl", "pw")


@pytest.fixture
def admin_client_(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def one_of_each(db):
    """At least one row of every registered model, so change pages can be opened."""
    now = timezone.now()
    municipality = MunicipalityFactory(name="Haarlemmermeer", cbs_code="GM0394")
    former = MunicipalityFactory(active=False, successor=municipality, population=0)
    merger = Merger.objects.create(
        date=datetime.date(2019, 1, 1), successor=municipality
    )
    merger.merged.add(former)
    EditorMembershipFactory(municipality=municipality)
    requirement = RequirementFactory()
    DeadlineRevisionFactory(agreement=requirement.agreement)
    AdoptionStatusFactory(municipality=municipality, block=requirement.block)
    StatusChangeFactory(municipality=municipality, block=requirement.block)
    MunicipalityScore.objects.create(
        municipality=municipality, score=50.0, computed_at=now
    )
    AgreementCompliance.objects.create(
        municipality=municipality,
        agreement=requirement.agreement,
        status=ComplianceStatus.MET,
        computed_at=now,
    )
    Aggregate.objects.create(
        scope=Scope.NATIONAL, measure=Measure.MEAN_SCORE, value=50.0, computed_at=now
    )
    Snapshot.objects.create(
        scope=Scope.NATIONAL,
        measure=Measure.MEAN_SCORE,
        value=40.0,
        month=datetime.date(2014, 1, 1),
        computed_at=now,
    )
    Report.objects.create(kind=Report.Kind.FULL_CSV)
    ImportBatch.objects.create(filename="statuses.csv", checksum="0" * 64)
    from agreements.models import ReminderLog

    ReminderLog.objects.create(municipality=municipality, sent_at=now, agreements=[1])
    ColumnPreference.objects.create(
        user=UserFactory(), table="municipalities", columns=["name"]
    )
    UserFactory()


def _url(model, view: str, *args) -> str:
    return reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args
    )


def test_every_portal_model_is_registered():
    labels = {model._meta.label for model in REGISTERED}
    for app in PORTAL_APPS:
        for model in apps.get_app_config(app).get_models():
            assert model._meta.label in labels, model


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_admin_pages_render(admin_client_, one_of_each, model):
    model_admin = admin.site._registry[model]  # noqa: SLF001
    assert admin_client_.get(_url(model, "changelist")).status_code == 200
    # Search and the first filter exercise search_fields and list_filter.
    response = admin_client_.get(_url(model, "changelist"), {"q": "a"})
    assert response.status_code == 200

    obj = model._default_manager.first()
    assert obj is not None, "the fixture makes one of each"
    assert admin_client_.get(_url(model, "change", obj.pk)).status_code == 200

    request = response.wsgi_request
    expected_add = 200 if model_admin.has_add_permission(request) else 403
    assert admin_client_.get(_url(model, "add")).status_code == expected_add


def test_status_change_admin_is_read_only_even_for_superusers(
    admin_client_, one_of_each
):
    change = StatusChange.objects.get()
    model_admin = admin.site._registry[StatusChange]  # noqa: SLF001
    request = admin_client_.get(_url(StatusChange, "changelist")).wsgi_request
    assert request.user.is_superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, change)
    assert not model_admin.has_delete_permission(request, change)

    assert admin_client_.get(_url(StatusChange, "add")).status_code == 403
    page = admin_client_.get(_url(StatusChange, "change", change.pk))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert (
        admin_client_.post(_url(StatusChange, "delete", change.pk)).status_code == 403
    )
    response = admin_client_.post(
        _url(StatusChange, "change", change.pk), {"note": "rewritten"}
    )
    assert response.status_code == 403
    assert StatusChange.objects.get(pk=change.pk).note == ""


def test_king_staff_manage_reference_data_in_the_admin(client, king_user, one_of_each):
    client.force_login(king_user)
    assert client.get(_url(MunicipalityScore, "changelist")).status_code == 200
    municipality = MunicipalityScore.objects.get().municipality
    assert (
        client.get(_url(type(municipality), "change", municipality.pk)).status_code
        == 200
    )
    assert client.get(_url(StatusChange, "add")).status_code == 403


def test_a_vdp_member_has_no_admin(client, vdp_user):
    client.force_login(vdp_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302  # to the admin login: not staff


@pytest.mark.parametrize(
    "model", [AdoptionStatus, StatusChange, Merger], ids=lambda m: m.__name__
)
def test_changelists_do_not_query_per_row(
    admin_client_, django_assert_max_num_queries, model
):
    for _ in range(12):
        municipality = MunicipalityFactory()
        block = BuildingBlockFactory()
        AdoptionStatusFactory(municipality=municipality, block=block)
        StatusChangeFactory(municipality=municipality, block=block)
        merger = Merger.objects.create(
            date=datetime.date(2019, 1, 1), successor=municipality
        )
        merger.merged.add(MunicipalityFactory(active=False))
    with django_assert_max_num_queries(15):
        assert admin_client_.get(_url(model, "changelist")).status_code == 200


def test_a_status_saved_in_the_admin_enters_the_history(admin_client_, superuser):
    status = AdoptionStatusFactory(
        level=Level.PREPARING, planned_date=datetime.date(2030, 1, 1)
    )
    response = admin_client_.post(
        _url(AdoptionStatus, "change", status.pk),
        {
            "level": Level.IN_USE,
            "planned_date": "",
            "achieved_date": "2024-05-01",
            "note": "",
            "evidence_url": "",
            "loaded_version": status.version,
        },
    )
    assert response.status_code == 302, response.content
    status.refresh_from_db()
    assert status.level == Level.IN_USE
    assert status.version == 2
    change = StatusChange.objects.get(municipality=status.municipality)
    assert change.source == StatusChange.Source.ADMIN
    assert change.from_level == Level.PREPARING and change.to_level == Level.IN_USE
    assert change.changed_by == superuser


def test_the_admin_applies_the_status_rules(admin_client_):
    status = AdoptionStatusFactory()
    response = admin_client_.post(
        _url(AdoptionStatus, "change", status.pk),
        {"level": Level.NOT_APPLICABLE, "note": "", "evidence_url": ""},
    )
    assert response.status_code == 200  # the form again, with an error
    assert response.context["adminform"].form.errors
    assert not StatusChange.objects.exists()


def test_a_status_added_in_the_admin_enters_the_history(admin_client_):
    municipality = MunicipalityFactory()
    block = BuildingBlockFactory()
    response = admin_client_.post(
        _url(AdoptionStatus, "add"),
        {
            "municipality": municipality.pk,
            "block": block.pk,
            "level": Level.IMPLEMENTING,
            "planned_date": "2030-06-01",
            "achieved_date": "",
            "note": "",
            "evidence_url": "",
        },
    )
    assert response.status_code == 302, response.content
    status = AdoptionStatus.objects.get(municipality=municipality, block=block)
    assert status.version == 1
    change = StatusChange.objects.get(municipality=municipality, block=block)
    assert change.from_level == "" and change.to_level == Level.IMPLEMENTING


def _admin_status_post(status: AdoptionStatus, **values) -> dict:
    return {
        "level": status.level,
        "planned_date": status.planned_date.isoformat() if status.planned_date else "",
        "achieved_date": status.achieved_date.isoformat()
        if status.achieved_date
        else "",
        "note": status.note,
        "evidence_url": status.evidence_url,
        "loaded_version": status.version,
        **values,
    }


def test_the_admin_change_page_carries_the_loaded_version(admin_client_):
    status = AdoptionStatusFactory(level=Level.PREPARING)

    response = admin_client_.get(_url(AdoptionStatus, "change", status.pk))

    html = response.content.decode()
    assert (
        f'<input type="hidden" name="loaded_version" value="{status.version}"' in html
    )


def test_a_stale_admin_edit_shows_an_error_and_does_not_overwrite(
    admin_client_, king_user
):
    status = AdoptionStatusFactory(
        level=Level.PREPARING, planned_date=datetime.date(2030, 1, 1)
    )
    # The admin page is opened at version 1 ...
    stale = _admin_status_post(status, level=Level.IMPLEMENTING, note="From the admin")
    # ... and someone saves the same block through the status service meanwhile.
    save_statuses(
        user=king_user,
        municipality=status.municipality,
        changes=[
            StatusEdit(
                block_code=status.block.code,
                version=status.version,
                values=StatusValues(
                    level=Level.PREPARING,
                    planned_date=datetime.date(2030, 1, 1),
                    note="Someone else",
                ),
            )
        ],
    )

    response = admin_client_.post(_url(AdoptionStatus, "change", status.pk), stale)

    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors.as_data()
    assert [error.code for error in errors["__all__"]] == ["stale"]
    assert 'class="errornote"' in response.content.decode()
    status.refresh_from_db()
    assert status.note == "Someone else"
    assert status.level == Level.PREPARING
    assert status.version == 2
    assert not StatusChange.objects.filter(source=StatusChange.Source.ADMIN).exists()


def test_a_clash_during_the_admin_save_is_a_message_not_a_500(
    admin_client_, monkeypatch
):
    status = AdoptionStatusFactory(
        level=Level.PREPARING, planned_date=datetime.date(2030, 1, 1)
    )

    def clash(**kwargs):
        # Someone saved between the form's version check and the locked save.
        raise StatusConflict({})

    monkeypatch.setattr("buildingblocks.admin.save_statuses", clash)
    url = _url(AdoptionStatus, "change", status.pk)

    response = admin_client_.post(
        url, _admin_status_post(status, level=Level.IMPLEMENTING), follow=True
    )

    assert response.status_code == 200
    assert response.redirect_chain == [(url, 302)]
    shown = [message.level_tag for message in response.context["messages"]]
    assert shown == ["error"]
    status.refresh_from_db()
    assert status.level == Level.PREPARING
