"""PostgreSQL search_entry: file numbers and tickers (issue 9, part 4). Placeholder."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0005_entry_sections"),
    ]

    operations = []
