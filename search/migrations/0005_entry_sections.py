"""PostgreSQL search_entry: sections (issue 9, part 1). Placeholder."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0004_entry_ingested"),
    ]

    operations = []
