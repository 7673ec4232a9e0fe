"""A small but complete portal for the security tests: one object behind every URL.

`portal` gives two municipalities (A and B) with statuses, building blocks, a
result agreement, a finished report of each kind that has a URL, an import batch
that would change data if applied, and one user per role.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.utils import timezone

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, ImportBatch, StatusChange
from reports.models import Report
from tests.buildingblocks.editing import make_blocks
from tests.factories import (
    AdoptionStatusFactory,
    EditorMembershipFactory,
    MunicipalityFactory,
    RequirementFactory,
    ResultAgreementFactory,
    UserFactory,
)

ROLES = ("anonymous", "plain", "vdp", "editor_a", "editor_b", "king")


@dataclass
class Portal:
    a: object
    b: object
    blocks: dict
    agreement: object
    report: Report  # a finished full export: KING staff only
    scorecard: Report  # A's scorecard: A's editors and KING staff
    batch: ImportBatch  # an import that would change A's DigiD status
    users: dict = field(default_factory=dict)

    def client(self, role: str) -> Client:
        client = Client()
        user = self.users[role]
        if user is not None:
            client.force_login(user)
        return client


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Many users per test: a cheap hasher keeps the suite fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def build_portal() -> Portal:
    blocks = make_blocks()
    a = MunicipalityFactory(slug="gemeente-a", cbs_code="GM0901", name="Gemeente A")
    b = MunicipalityFactory(slug="gemeente-b", cbs_code="GM0902", name="Gemeente B")
    for municipality in (a, b):
        for code in ("digid", "eherkenning", "brp"):
            AdoptionStatusFactory(municipality=municipality, block=blocks[code])
    agreement = ResultAgreementFactory(number=1, deadline=datetime.date(2030, 1, 1))
    RequirementFactory(agreement=agreement, block=blocks["digid"])
    users = {
        "anonymous": None,
        "plain": UserFactory(username="plain"),
        "vdp": UserFactory(username="vdp", groups=["vdp"]),
        "editor_a": EditorMembershipFactory(
            municipality=a,
            user=UserFactory(username="cio-a", groups=["municipal_editor"]),
        ).user,
        "editor_b": EditorMembershipFactory(
            municipality=b,
            user=UserFactory(username="cio-b", groups=["municipal_editor"]),
        ).user,
        "king": UserFactory(username="king", groups=["king_staff"], is_staff=True),
    }
    now = timezone.now()
    report = Report.objects.create(
        kind=Report.Kind.FULL_CSV,
        parameters={"language": "en"},
        state=Report.State.DONE,
        progress=100,
        finished_at=now,
    )
    report.file = default_storage.save(
        report.storage_name, ContentFile(b"cbs_code,level\r\n")
    )
    report.save(update_fields=["file"])
    scorecard = Report.objects.create(
        kind=Report.Kind.SCORECARD,
        parameters={"municipality": a.pk, "municipality_name": a.name},
        state=Report.State.QUEUED,
    )
    batch = ImportBatch.objects.create(
        filename="statuses.csv",
        checksum="0" * 64,
        rows=[
            [
                2,
                {
                    "cbs_code": a.cbs_code,
                    "building_block": "digid",
                    "level": Level.IN_USE,
                    "planned_date": "",
                    "achieved_date": "2014-01-01",
                    "note": "",
                    "evidence_url": "",
                },
            ]
        ],
        row_count=1,
        uploaded_by=users["king"],
    )
    return Portal(a, b, blocks, agreement, report, scorecard, batch, users)


@pytest.fixture
def portal(db, media) -> Portal:
    return build_portal()


def fingerprint() -> tuple:
    """Everything a refused request must leave alone, in a handful of queries."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from agreements.models import DeadlineRevision, ResultAgreement
    from municipalities.models import EditorMembership, Municipality

    statuses = tuple(
        AdoptionStatus.objects.order_by("pk").values_list(
            "pk", "level", "version", "planned_date", "note"
        )
    )
    return (
        statuses,
        StatusChange.objects.count(),
        tuple(Report.objects.order_by("pk").values_list("pk", "state", "file")),
        tuple(
            ImportBatch.objects.order_by("pk").values_list(
                "pk", "applied_at", "changed_count"
            )
        ),
        tuple(Municipality.objects.order_by("pk").values_list("pk", "name", "active")),
        tuple(ResultAgreement.objects.values_list("pk", "deadline")),
        DeadlineRevision.objects.count(),
        EditorMembership.objects.count(),
        tuple(
            get_user_model()
            .objects.order_by("pk")
            .values_list("pk", "is_staff", "is_superuser", "password")
        ),
        Group.objects.count(),
    )


def is_postgres() -> bool:
    return connection.vendor == "postgresql"
