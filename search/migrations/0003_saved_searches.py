"""Saved searches (issue 9, part 3): search.models.SavedSearch."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import search.models


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0002_postgres_term_buckets"),
        ("filings", "0003_jobs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SavedSearch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                ("query", models.CharField(max_length=4000)),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("last_seen", models.DateTimeField()),
                ("alerts", models.BooleanField(default=False, verbose_name="e-mail alerts")),
                ("last_alerted", models.DateTimeField()),
                ("feed_token", models.CharField(default=search.models.new_token, max_length=64,
                                                unique=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                           related_name="saved_searches",
                                           to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["name", "id"],
                "constraints": [models.UniqueConstraint(fields=("user", "name"),
                                                        name="saved_search_unique_name")],
            },
        ),
    ]
