"""ImportBatch moved from reports to buildingblocks without losing a batch or a
permission (buildingblocks.0004, reports.0003)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

import pytest

from buildingblocks.models import ImportBatch

BEFORE = [("buildingblocks", "0003_blockversion"), ("reports", "0002_importbatch")]
AFTER = [("buildingblocks", "0004_importbatch"), ("reports", "0003_move_importbatch")]


def _migrate(targets) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_the_move(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    _migrate(_leaves())


def _leaves():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_a_batch_and_its_permissions_survive_the_move(before_the_move):
    apps = before_the_move
    # Content types, permissions and groups did not change: today's models do.
    OldBatch = apps.get_model("reports", "ImportBatch")
    batch = OldBatch.objects.create(
        filename="kwartaal.csv", checksum="0" * 64, rows=[[2, {}]], row_count=1
    )
    old_type, _ = ContentType.objects.get_or_create(
        app_label="reports", model="importbatch"
    )
    view, _ = Permission.objects.get_or_create(
        content_type=old_type,
        codename="view_importbatch",
        defaults={"name": "Can view"},
    )
    Group.objects.create(name="import_viewers").permissions.add(view)

    _migrate(AFTER)

    moved = ImportBatch.objects.get()
    assert (moved.pk, moved.uid, moved.filename) == (
        batch.pk,
        batch.uid,
        batch.filename,
    )
    assert moved.rows == [[2, {}]]
    assert ContentType.objects.get_for_model(ImportBatch).pk == old_type.pk
    assert not ContentType.objects.filter(app_label="reports", model="importbatch")
    group = Group.objects.get(name="import_viewers")
    assert list(group.permissions.all()) == [
        Permission.objects.get(codename="view_importbatch")
    ]
    assert group.permissions.get().content_type.app_label == "buildingblocks"

    _migrate(BEFORE)  # and back, for a rollback

    assert apps.get_model("reports", "ImportBatch").objects.get().pk == batch.pk
    assert ContentType.objects.get(pk=old_type.pk).app_label == "reports"
