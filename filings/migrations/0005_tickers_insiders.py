"""Tickers and insider transactions (issue 9, parts 4 and 5). Placeholder: its operations are added with the models."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("filings", "0004_sections"),
    ]

    operations = []
