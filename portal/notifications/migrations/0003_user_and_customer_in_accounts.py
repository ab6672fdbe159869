"""The foreign keys of notifications to the user and the customer now point to accounts (state only).

Nothing changes in the database: accounts.User keeps the table portal_user (with portal_user_groups
and portal_user_user_permissions) and accounts.Customer keeps contracts_customer, so the foreign keys'
columns and constraints stay as they are.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('notifications', '0002_communication_recipient_email_and_more'),
    ]

    operations = [
        # State only: the tables, columns and constraints are already right (see the docstring).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='communication',
                    name='customer',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='communications', to='accounts.customer', verbose_name='cliente'),
                ),
                migrations.AlterField(
                    model_name='delivery',
                    name='dispatch_recorded_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='spedizione registrata da'),
                ),
                migrations.AlterField(
                    model_name='delivery',
                    name='receipt_recorded_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='ricevuta registrata da'),
                ),
            ],
        ),
    ]
