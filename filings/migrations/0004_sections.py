"""Sections of 10-K, 10-Q and 8-K documents (issue 9, part 1): `Document.sections`, the
item sections found in a document's plain text (filings.sections). Filings stored before
get them when re-derived (admin action "Re-derive")."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("filings", "0003_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="document",
            name="sections",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
