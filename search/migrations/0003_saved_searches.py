"""Saved searches (issue 9, part 3). Placeholder: its operations are added with the models."""
from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0002_postgres_term_buckets"),
        ("filings", "0003_jobs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = []
