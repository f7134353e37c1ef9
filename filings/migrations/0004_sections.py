"""Sections of 10-K, 10-Q and 8-K documents (issue 9, part 1). Placeholder: its operations are added with the models."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("filings", "0003_jobs"),
    ]

    operations = []
