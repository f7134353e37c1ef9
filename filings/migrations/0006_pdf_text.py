"""PDF text (issue 9, part 2). Placeholder: its operations are added with the models, if any."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("filings", "0005_tickers_insiders"),
    ]

    operations = []
