"""50 editors save statuses of one municipality at the same moment (DESIGN §8).

PostgreSQL only (real row locks; SQLite serialises writers). Each user loads the
"form" (reads the current version and values of a block), waits for everyone at
a barrier, and saves; on a conflict they reload and try again, as a person would
after the conflict message. Half of the users save through the status editor
page (their own logged-in Client), half through `save_statuses`.

Asserted: no error but conflicts (no deadlock, no OperationalError); every
applied save is in the history exactly once; per block the history is one chain
(each change starts from the previous one's values: nothing was overwritten
unseen), its length is the row's version - 1, and the row holds the last write.
"""

from __future__ import annotations

import datetime
import threading
from collections import Counter
from unittest import mock

from django.db import connections
from django.test import Client

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, StatusChange
from buildingblocks.services import StatusConflict, StatusEdit, save_statuses
from buildingblocks.validation import StatusValues
from tests.buildingblocks.editing import change, form_data
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    EditorMembershipFactory,
    MunicipalityFactory,
)

USERS = 50
# Five users per block: each save of a block races four others.
BLOCKS = tuple(f"blok{i}" for i in range(10))
# A conflict means another user's save of the block committed after this user
# loaded it; with four rivals, the fifth attempt always succeeds.
ATTEMPTS = 6
BASE = datetime.date(2031, 1, 1)

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def crowd(transactional_db):
    municipality = MunicipalityFactory(slug="druk")
    blocks = [BuildingBlockFactory(code=code, order=i) for i, code in enumerate(BLOCKS)]
    for block in blocks:
        AdoptionStatusFactory(municipality=municipality, block=block)
    users = [
        EditorMembershipFactory(municipality=municipality).user for _ in range(USERS)
    ]
    return municipality, users


def _planned(user_index: int, attempt: int) -> datetime.date:
    """A date that names who wrote it and in which attempt."""
    return BASE + datetime.timedelta(days=user_index * 100 + attempt)


def test_fifty_concurrent_editors_lose_nothing(crowd, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    municipality, users = crowd
    barrier = threading.Barrier(USERS)
    applied: list[tuple[str, datetime.date]] = []
    conflicts = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def via_service(index: int, code: str, attempt: int) -> bool:
        status = AdoptionStatus.objects.get(municipality=municipality, block__code=code)
        values = StatusValues(
            level=Level.PREPARING, planned_date=_planned(index, attempt)
        )
        if attempt == 0:
            barrier.wait(timeout=60)
        try:
            save_statuses(
                user=users[index],
                municipality=municipality,
                changes=[StatusEdit(code, status.version, values)],
            )
        except StatusConflict:
            return False
        return True

    def via_page(client: Client, index: int, code: str, attempt: int) -> bool:
        url = f"/gemeenten/{municipality.slug}/bewerken/"
        data = change(
            form_data(client.get(url)),
            code,
            level=Level.PREPARING,
            planned_date=_planned(index, attempt).isoformat(),
        )
        if attempt == 0:
            barrier.wait(timeout=60)
        response = client.post(url, data)
        assert response.status_code in (302, 409), response.status_code
        return response.status_code == 302

    def run(index: int) -> None:
        code = BLOCKS[index % len(BLOCKS)]
        client = None
        try:
            if index % 2:
                client = Client()
                client.force_login(users[index])
            for attempt in range(ATTEMPTS):
                ok = (
                    via_page(client, index, code, attempt)
                    if client
                    else via_service(index, code, attempt)
                )
                if ok:
                    with lock:
                        applied.append((code, _planned(index, attempt)))
                    return
                with lock:
                    conflicts[code] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            with lock:
                errors.append(error)
            barrier.abort()
        finally:
            connections.close_all()

    with mock.patch("scoring.tasks.enqueue_recompute"):
        threads = [threading.Thread(target=run, args=(i,)) for i in range(USERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a save hung (deadlock?)"
    assert not errors, errors[:3]
    assert sum(conflicts.values()) > 0, "the saves did not overlap: no real test"
    assert len(applied) == USERS, (len(applied), dict(conflicts))

    history = list(
        StatusChange.objects.filter(municipality=municipality)
        .select_related("block")
        .order_by("id")
    )
    # Every applied save exactly once in the history, and nothing else.
    assert Counter((h.block.code, h.to_planned_date) for h in history) == Counter(
        applied
    )
    statuses = {
        s.block.code: s
        for s in AdoptionStatus.objects.filter(
            municipality=municipality
        ).select_related("block")
    }
    for code in BLOCKS:
        chain = [h for h in history if h.block.code == code]
        status = statuses[code]
        # Versions went 1, 2, 3, … with one history row per step.
        assert status.version == 1 + len(chain), code
        previous = None  # the factory's row had no planned date
        for change_ in chain:
            assert change_.from_planned_date == previous, (
                f"{code}: a change did not start from the previous one (lost update)"
            )
            previous = change_.to_planned_date
        assert status.planned_date == previous, (
            f"{code}: final state is not the last write"
        )
