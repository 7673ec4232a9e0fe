"""ImportBatch moves here from the reports app: the import lives in one app.

Only Django's idea of the model moves (SeparateDatabaseAndState): the table
keeps its name, reports_importbatch, so every uploaded batch stays. The content
type moves with it, so the permissions groups and users hold on import batches
keep pointing at the model (they are now buildingblocks.*_importbatch).
reports.0003 removes the model from the reports app's state after this.
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _move_content_type(apps, from_label: str, to_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    moving = ContentType.objects.filter(app_label=from_label, model="importbatch")
    if moving.exists():
        # One made for the new label in between (by a partial migrate) would
        # block the move; it can only hold permissions nobody was given yet.
        ContentType.objects.filter(app_label=to_label, model="importbatch").delete()
        moving.update(app_label=to_label)
    ContentType.objects.clear_cache()


def forwards(apps, schema_editor):
    _move_content_type(apps, "reports", "buildingblocks")


def backwards(apps, schema_editor):
    _move_content_type(apps, "buildingblocks", "reports")


class Migration(migrations.Migration):
    dependencies = [
        ("buildingblocks", "0003_blockversion"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("reports", "0002_importbatch"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ImportBatch",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "uid",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                unique=True,
                                verbose_name="batch id",
                            ),
                        ),
                        (
                            "filename",
                            models.CharField(max_length=255, verbose_name="file name"),
                        ),
                        (
                            "checksum",
                            models.CharField(
                                db_index=True,
                                max_length=64,
                                verbose_name="SHA-256 of the file",
                            ),
                        ),
                        ("rows", models.JSONField(default=list, verbose_name="rows")),
                        (
                            "row_count",
                            models.PositiveIntegerField(default=0, verbose_name="rows"),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(
                                auto_now_add=True, verbose_name="uploaded at"
                            ),
                        ),
                        (
                            "applied_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="applied at"
                            ),
                        ),
                        (
                            "changed_count",
                            models.PositiveIntegerField(
                                default=0, verbose_name="statuses changed"
                            ),
                        ),
                        (
                            "applied_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="applied by",
                            ),
                        ),
                        (
                            "uploaded_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="uploaded by",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "import batch",
                        "verbose_name_plural": "import batches",
                        "ordering": ["-created_at", "-id"],
                        "db_table": "reports_importbatch",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
