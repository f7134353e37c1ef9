"""Tickers and insider transactions (issue 9, parts 4 and 5)."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("filings", "0004_sections"),
    ]

    operations = [
        migrations.CreateModel(
            name="Ticker",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("cik", models.PositiveBigIntegerField(db_index=True, verbose_name="CIK")),
                ("ticker", models.CharField(db_index=True, max_length=16)),
                ("exchange", models.CharField(blank=True, max_length=32)),
                ("title", models.CharField(blank=True, max_length=255)),
                ("position", models.PositiveIntegerField(default=0)),
            ],
            options={
                "ordering": ["cik", "position"],
                "constraints": [models.UniqueConstraint(fields=("cik", "ticker"), name="ticker_unique_cik_ticker")],
            },
        ),
        migrations.CreateModel(
            name="InsiderTransaction",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("document_sequence", models.PositiveIntegerField()),
                ("position", models.PositiveIntegerField()),
                ("table", models.CharField(choices=[("non-derivative", "Non-derivative"), ("derivative", "Derivative")], max_length=16)),
                ("owner_cik", models.PositiveBigIntegerField(blank=True, null=True, verbose_name="owner CIK")),
                ("owner_name", models.CharField(blank=True, max_length=255)),
                ("issuer_cik", models.PositiveBigIntegerField(blank=True, null=True, verbose_name="issuer CIK")),
                ("issuer_name", models.CharField(blank=True, max_length=255)),
                ("trading_symbol", models.CharField(blank=True, max_length=32)),
                ("security", models.CharField(blank=True, max_length=255)),
                ("transaction_date", models.DateField(blank=True, null=True)),
                ("code", models.CharField(blank=True, max_length=8)),
                ("acquired_disposed", models.CharField(blank=True, max_length=1, verbose_name="A/D")),
                ("shares", models.DecimalField(blank=True, decimal_places=6, max_digits=24, null=True)),
                ("price", models.DecimalField(blank=True, decimal_places=6, max_digits=24, null=True)),
                ("owned_after", models.DecimalField(blank=True, decimal_places=6, max_digits=24, null=True)),
                ("ownership", models.CharField(blank=True, max_length=8, verbose_name="direct/indirect")),
                ("nature", models.CharField(blank=True, max_length=255, verbose_name="nature of indirect ownership")),
                ("footnotes", models.CharField(blank=True, max_length=255)),
                ("filing", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="insider_transactions", to="filings.filing")),
            ],
            options={
                "ordering": ["-transaction_date", "filing", "position"],
                "indexes": [
                    models.Index(fields=["issuer_cik", "transaction_date"], name="insider_issuer_date"),
                    models.Index(fields=["owner_cik", "transaction_date"], name="insider_owner_date"),
                ],
                "constraints": [models.UniqueConstraint(fields=("filing", "document_sequence", "position"), name="insidertransaction_unique_row")],
            },
        ),
    ]
