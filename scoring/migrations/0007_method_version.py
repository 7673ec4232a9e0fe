from django.db import migrations, models

import scoring.method_version


def _field(default):
    return models.CharField(
        default=default, max_length=10, verbose_name="method version"
    )


class Migration(migrations.Migration):
    """Rows made before method versions were recorded were made with version 1."""

    dependencies = [
        ("scoring", "0006_compliance_reason_not_applicable_exempted"),
    ]

    operations = [
        migrations.AddField(
            model_name="municipalityscore",
            name="method_version",
            field=_field("1"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="snapshot",
            name="method_version",
            field=_field("1"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="municipalityscore",
            name="method_version",
            field=_field(scoring.method_version.current_method_version),
        ),
        migrations.AlterField(
            model_name="snapshot",
            name="method_version",
            field=_field(scoring.method_version.current_method_version),
        ),
    ]
