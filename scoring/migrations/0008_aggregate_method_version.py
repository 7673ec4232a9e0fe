from django.db import migrations, models

import scoring.method_version


def _field(default):
    return models.CharField(
        default=default, max_length=10, verbose_name="method version"
    )


def from_the_scores(apps, schema_editor):
    # The aggregates are rewritten by the same recompute as the scores: the
    # newest score row tells the version they were made with.
    newest = (
        apps.get_model("scoring", "MunicipalityScore")
        .objects.order_by("-computed_at")
        .values_list("method_version", flat=True)
        .first()
    )
    if newest is not None:
        apps.get_model("scoring", "Aggregate").objects.update(method_version=newest)


class Migration(migrations.Migration):
    """Existing aggregate rows carry the version of the scores written with them."""

    dependencies = [
        ("scoring", "0007_method_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="aggregate",
            name="method_version",
            field=_field("1"),
            preserve_default=False,
        ),
        migrations.RunPython(from_the_scores, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="aggregate",
            name="method_version",
            field=_field(scoring.method_version.current_method_version),
        ),
    ]
