"""PostgreSQL search_entry: the filing's ingest time (issue 9, part 3). Placeholder."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0003_saved_searches"),
    ]

    operations = []
