import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0009_online_payments"),
        ("complaints", "0003_user_and_customer_in_accounts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DunningBlock",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("manual", models.BooleanField(default=False, verbose_name="impostato dal personale")),
                ("reason", models.CharField(max_length=300, verbose_name="motivo del blocco")),
                ("set_at", models.DateTimeField(verbose_name="bloccato il")),
                ("lifted_at", models.DateTimeField(blank=True, null=True, verbose_name="sbloccato il")),
                ("lifted_by_hand", models.BooleanField(default=False, verbose_name="sbloccato dal personale")),
                ("lift_reason", models.CharField(blank=True, max_length=300, verbose_name="motivo dello sblocco")),
                (
                    "complaint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dunning_blocks",
                        to="complaints.complaint",
                        verbose_name="reclamo",
                    ),
                ),
                (
                    "invoice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dunning_blocks",
                        to="billing.invoice",
                        verbose_name="bolletta",
                    ),
                ),
                (
                    "lifted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="sbloccato da",
                    ),
                ),
                (
                    "set_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="bloccato da",
                    ),
                ),
            ],
            options={
                "verbose_name": "blocco dei solleciti",
                "verbose_name_plural": "blocchi dei solleciti",
                "ordering": ["-set_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("lifted_at__isnull", True)),
                        fields=("invoice", "complaint"),
                        name="one_active_block_per_complaint_and_invoice",
                    )
                ],
            },
        ),
    ]
