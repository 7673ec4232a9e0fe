"""ImportBatch now lives in buildingblocks (see buildingblocks.0004): drop it
from this app's state only; the table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("buildingblocks", "0004_importbatch"),
        ("reports", "0002_importbatch"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ImportBatch")],
            database_operations=[],
        ),
    ]
