"""buildingblocks.services.save_statuses: permission, locking, history, the recompute hook."""

from __future__ import annotations

import datetime
import threading
from unittest import mock

from django.core.exceptions import PermissionDenied
from django.db import connections
from django.test import override_settings

import pytest
from kombu.exceptions import OperationalError

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, StatusChange
from buildingblocks.services import (
    InvalidStatusEdit,
    StatusConflict,
    StatusEdit,
    StatusValidationError,
    save_statuses,
)
from buildingblocks.validation import StatusValues
from tests.buildingblocks.editing import make_blocks
from tests.factories import (
    AdoptionStatusFactory,
    EditorMembershipFactory,
    MunicipalityFactory,
    UserFactory,
)

PLANNED = datetime.date(2030, 6, 1)
SOURCE = StatusChange.Source.FORM


@pytest.fixture
def blocks(db):
    return make_blocks()


@pytest.fixture
def digid_status(municipality, blocks):
    return AdoptionStatusFactory(
        municipality=municipality, block=blocks["digid"], level=Level.NOT_STARTED
    )


def preparing(planned=PLANNED, note=""):
    return StatusValues(level=Level.PREPARING, planned_date=planned, note=note)


def test_saves_changed_blocks_bumps_versions_and_creates_missing_rows(
    editor, municipality, blocks, digid_status
):
    result = save_statuses(
        user=editor,
        municipality=municipality,
        changes=[
            StatusEdit("digid", 1, preparing()),
            StatusEdit("brp", 0, StatusValues(level=Level.IN_USE)),
        ],
        source=SOURCE,
    )

    digid_status.refresh_from_db()
    assert (digid_status.level, digid_status.planned_date) == (Level.PREPARING, PLANNED)
    assert digid_status.version == 2
    assert digid_status.updated_by == editor
    brp = AdoptionStatus.objects.get(municipality=municipality, block=blocks["brp"])
    assert (brp.level, brp.version, brp.updated_by) == (Level.IN_USE, 1, editor)
    assert sorted(result.changed_codes) == ["brp", "digid"]


def test_history_has_one_row_per_changed_block_and_none_for_unchanged(
    editor, municipality, blocks, digid_status
):
    save_statuses(
        user=editor,
        municipality=municipality,
        changes=[
            StatusEdit("digid", 1, preparing(note="project started")),
            # Same values as in the database: nothing to record.
            StatusEdit("eherkenning", 0, StatusValues(level=Level.NOT_STARTED)),
        ],
        source=SOURCE,
    )

    changes = list(StatusChange.objects.filter(municipality=municipality))
    assert len(changes) == 1
    change = changes[0]
    assert change.block.code == "digid"
    assert (change.from_level, change.to_level) == (Level.NOT_STARTED, Level.PREPARING)
    assert (change.from_planned_date, change.to_planned_date) == (None, PLANNED)
    assert change.changed_by == editor
    assert change.source == SOURCE
    assert change.note == "project started"
    assert change.batch_id
    assert not AdoptionStatus.objects.filter(block=blocks["eherkenning"]).exists()


def test_a_new_row_records_no_previous_level(editor, municipality, blocks):
    save_statuses(
        user=editor,
        municipality=municipality,
        changes=[StatusEdit("brp", 0, StatusValues(level=Level.IN_USE))],
        source=SOURCE,
    )
    change = StatusChange.objects.get(municipality=municipality)
    assert (change.from_level, change.to_level) == ("", Level.IN_USE)


def test_a_stale_version_saves_nothing_at_all(
    editor, municipality, blocks, digid_status
):
    brp = AdoptionStatusFactory(municipality=municipality, block=blocks["brp"])
    AdoptionStatus.objects.filter(pk=brp.pk).update(version=5)

    with pytest.raises(StatusConflict) as excinfo:
        save_statuses(
            user=editor,
            municipality=municipality,
            changes=[
                StatusEdit("digid", 1, preparing()),  # current
                StatusEdit("brp", 4, StatusValues(level=Level.IN_USE)),  # stale
            ],
            source=SOURCE,
        )

    assert set(excinfo.value.current) == {"brp"}
    assert excinfo.value.current["brp"].version == 5
    digid_status.refresh_from_db()
    assert (digid_status.level, digid_status.version) == (Level.NOT_STARTED, 1)
    assert not StatusChange.objects.exists()


def test_a_row_created_meanwhile_is_a_conflict_for_a_form_that_saw_none(
    editor, municipality, blocks
):
    other = UserFactory(username="colleague")
    AdoptionStatusFactory(
        municipality=municipality,
        block=blocks["brp"],
        level=Level.IMPLEMENTING,
        planned_date=PLANNED,
        updated_by=other,
    )
    with pytest.raises(StatusConflict) as excinfo:
        save_statuses(
            user=editor,
            municipality=municipality,
            changes=[StatusEdit("brp", 0, StatusValues(level=Level.IN_USE))],
            source=SOURCE,
        )
    current = excinfo.value.current["brp"]
    assert current.values.level == Level.IMPLEMENTING
    assert current.changed_by == "colleague"


def test_the_same_edit_made_by_someone_else_is_no_conflict(
    editor, municipality, blocks, digid_status
):
    AdoptionStatus.objects.filter(pk=digid_status.pk).update(
        level=Level.PREPARING, planned_date=PLANNED, version=2
    )
    result = save_statuses(
        user=editor,
        municipality=municipality,
        changes=[StatusEdit("digid", 1, preparing())],
        source=SOURCE,
    )
    assert result.changes == []
    digid_status.refresh_from_db()
    assert digid_status.version == 2


@pytest.mark.parametrize(
    "edits",
    [
        [StatusEdit("nonexistent", 0, StatusValues(level=Level.IN_USE))],
        [StatusEdit("retired", 0, StatusValues(level=Level.IN_USE))],
        [
            StatusEdit("brp", 0, StatusValues(level=Level.IN_USE)),
            StatusEdit("brp", 0, StatusValues(level=Level.PREPARING)),
        ],
        [StatusEdit("brp", -1, StatusValues(level=Level.IN_USE))],
    ],
    ids=["unknown block", "inactive block", "block twice", "negative version"],
)
def test_tampered_edits_are_refused(editor, municipality, blocks, edits):
    with pytest.raises(InvalidStatusEdit):
        save_statuses(
            user=editor, municipality=municipality, changes=edits, source=SOURCE
        )
    assert not AdoptionStatus.objects.exists()


def test_statuses_breaking_the_rules_are_refused(editor, municipality, blocks):
    with pytest.raises(StatusValidationError) as excinfo:
        save_statuses(
            user=editor,
            municipality=municipality,
            changes=[
                StatusEdit("brp", 0, StatusValues(level=Level.PREPARING)),
                StatusEdit("digid", 0, StatusValues(level=Level.IN_USE)),
            ],
            source=SOURCE,
        )
    assert set(excinfo.value.errors) == {"brp"}
    assert "planned_date" in excinfo.value.errors["brp"]
    assert not AdoptionStatus.objects.exists()


def test_the_service_checks_the_permission_itself(municipality, blocks, vdp_user):
    other_editor = EditorMembershipFactory(municipality=MunicipalityFactory()).user
    for user in (other_editor, vdp_user):
        with pytest.raises(PermissionDenied):
            save_statuses(
                user=user,
                municipality=municipality,
                changes=[StatusEdit("brp", 0, StatusValues(level=Level.IN_USE))],
                source=SOURCE,
            )
    assert not AdoptionStatus.objects.exists()


def test_only_system_sources_may_save_without_a_user(municipality, blocks):
    edit = StatusEdit("brp", 0, StatusValues(level=Level.IN_USE))
    with pytest.raises(PermissionDenied):
        save_statuses(
            user=None, municipality=municipality, changes=[edit], source=SOURCE
        )
    save_statuses(
        user=None,
        municipality=municipality,
        changes=[edit],
        source=StatusChange.Source.MERGER,
    )
    assert StatusChange.objects.get().changed_by is None


def test_king_staff_may_save_any_municipality(king_user, municipality, blocks):
    save_statuses(
        user=king_user,
        municipality=municipality,
        changes=[StatusEdit("brp", 0, StatusValues(level=Level.IN_USE))],
        source=SOURCE,
    )
    assert AdoptionStatus.objects.get().updated_by == king_user


def test_a_recompute_is_requested_after_the_commit(
    editor, municipality, blocks, django_capture_on_commit_callbacks
):
    with (
        mock.patch("scoring.tasks.enqueue_recompute") as enqueue,
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        save_statuses(
            user=editor,
            municipality=municipality,
            changes=[StatusEdit("brp", 0, StatusValues(level=Level.IN_USE))],
            source=SOURCE,
        )
        # Not before the commit: a worker must see the new statuses.
        enqueue.assert_not_called()
    assert len(callbacks) == 1
    with mock.patch("scoring.tasks.enqueue_recompute") as enqueue:
        callbacks[0]()
    enqueue.assert_called_once_with(municipality.pk)


def test_no_recompute_when_nothing_changed(
    editor, municipality, blocks, django_capture_on_commit_callbacks
):
    with (
        mock.patch("scoring.tasks.enqueue_recompute") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        save_statuses(
            user=editor,
            municipality=municipality,
            changes=[StatusEdit("brp", 0, StatusValues(level=Level.NOT_STARTED))],
            source=SOURCE,
        )
    enqueue.assert_not_called()


def test_a_save_succeeds_when_enqueueing_fails(
    editor, municipality, blocks, django_capture_on_commit_callbacks, caplog
):
    with (
        mock.patch(
            "scoring.tasks.enqueue_recompute", side_effect=ConnectionError("down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        save_statuses(
            user=editor,
            municipality=municipality,
            changes=[StatusEdit("brp", 0, StatusValues(level=Level.IN_USE))],
            source=SOURCE,
        )
    assert AdoptionStatus.objects.get().level == Level.IN_USE
    assert "nightly full recompute will catch up" in caplog.text


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_a_save_succeeds_when_the_broker_is_down(
    editor, municipality, blocks, django_capture_on_commit_callbacks, caplog
):
    """The real enqueue path with a broker that refuses the connection."""
    with (
        mock.patch(
            "scoring.tasks.recompute_municipality.apply_async",
            side_effect=OperationalError("Error 111 connecting to redis"),
        ) as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        save_statuses(
            user=editor,
            municipality=municipality,
            changes=[StatusEdit("brp", 0, StatusValues(level=Level.IN_USE))],
            source=SOURCE,
        )
    publish.assert_called_once()
    assert AdoptionStatus.objects.get().level == Level.IN_USE
    assert StatusChange.objects.count() == 1
    assert "Could not enqueue" in caplog.text


# --- real concurrency (PostgreSQL: row locks; SQLite serialises writers) -------


def _run_in_threads(targets) -> list[BaseException | None]:
    """Run callables at the same moment, each with its own connection."""
    barrier = threading.Barrier(len(targets))
    outcomes: list[BaseException | None] = [None] * len(targets)

    def run(index, target):
        try:
            barrier.wait(timeout=10)
            target()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, target))
        for index, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a save hung"
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_saves_of_different_blocks_all_land_exactly_once():
    from tests.factories import BuildingBlockFactory

    municipality = MunicipalityFactory()
    codes = [f"parallel{index}" for index in range(8)]
    for code in codes:
        BuildingBlockFactory(code=code)
    editors = [
        EditorMembershipFactory(municipality=municipality).user for _code in codes
    ]

    def save(user, code):
        def target():
            save_statuses(
                user=user,
                municipality=municipality,
                changes=[StatusEdit(code, 0, StatusValues(level=Level.IN_USE))],
                source=SOURCE,
            )

        return target

    with mock.patch("scoring.tasks.enqueue_recompute"):
        outcomes = _run_in_threads(
            [save(user, code) for user, code in zip(editors, codes, strict=True)]
        )

    assert outcomes == [None] * len(codes)
    statuses = AdoptionStatus.objects.filter(municipality=municipality)
    assert {status.block.code: status.level for status in statuses} == {
        code: Level.IN_USE for code in codes
    }
    history = StatusChange.objects.filter(municipality=municipality)
    assert sorted(change.block.code for change in history) == sorted(codes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_saves_of_overlapping_blocks_lose_nothing_and_do_not_deadlock():
    from tests.factories import BuildingBlockFactory

    municipality = MunicipalityFactory()
    blocks = [BuildingBlockFactory(code=f"overlap{index}") for index in range(4)]
    for block in blocks:
        AdoptionStatusFactory(municipality=municipality, block=block)
    user = EditorMembershipFactory(municipality=municipality).user
    planned = [PLANNED + datetime.timedelta(days=day) for day in range(6)]

    def save(day, order):
        def target():
            save_statuses(
                user=user,
                municipality=municipality,
                changes=[
                    StatusEdit(blocks[index].code, 1, preparing(planned[day]))
                    for index in order
                ],
                source=SOURCE,
            )

        return target

    # Every save names every block (in different orders) with version 1: exactly
    # one may win, the rest must get a conflict — never a deadlock.
    orders = [
        [0, 1, 2, 3],
        [3, 2, 1, 0],
        [1, 3, 0, 2],
        [2, 0, 3, 1],
        [0, 2, 1, 3],
        [3, 1],
    ]
    with mock.patch("scoring.tasks.enqueue_recompute"):
        outcomes = _run_in_threads(
            [save(day, order) for day, order in enumerate(orders)]
        )

    winners = [day for day, outcome in enumerate(outcomes) if outcome is None]
    assert len(winners) == 1, outcomes
    assert all(
        isinstance(outcome, StatusConflict) for outcome in outcomes if outcome
    ), outcomes
    winner = winners[0]
    expected = {blocks[index].code for index in orders[winner]}
    statuses = AdoptionStatus.objects.filter(municipality=municipality)
    for status in statuses:
        if status.block.code in expected:
            assert (status.planned_date, status.version) == (planned[winner], 2)
        else:
            assert status.version == 1
    history = StatusChange.objects.filter(municipality=municipality)
    assert sorted(change.block.code for change in history) == sorted(expected)
