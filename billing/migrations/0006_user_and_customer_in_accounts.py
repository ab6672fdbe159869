"""The foreign keys of billing to the user and the customer now point to accounts (state only).

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
        ('billing', '0005_invoice_pdf_missing'),
    ]

    operations = [
        # State only: the tables, columns and constraints are already right (see the docstring).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='credit',
                    name='customer',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='credits', to='accounts.customer'),
                ),
                migrations.AlterField(
                    model_name='defaultnotice',
                    name='closed_by',
                    field=models.ForeignKey(blank=True, help_text='Vuoto: chiusa dal sistema (pagamento).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='chiusa da'),
                ),
                migrations.AlterField(
                    model_name='defaultnotice',
                    name='customer',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='default_notices', to='accounts.customer', verbose_name='cliente'),
                ),
                migrations.AlterField(
                    model_name='defaultnotice',
                    name='dispatch_recorded_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='invio registrato da'),
                ),
                migrations.AlterField(
                    model_name='defaultnotice',
                    name='receipt_recorded_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='ricezione registrata da'),
                ),
                migrations.AlterField(
                    model_name='invoice',
                    name='customer',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to='accounts.customer'),
                ),
                migrations.AlterField(
                    model_name='payment',
                    name='customer',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='accounts.customer'),
                ),
                migrations.AlterField(
                    model_name='payment',
                    name='registered_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='suspensionstep',
                    name='execution_recorded_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='esecuzione registrata da'),
                ),
                migrations.AlterField(
                    model_name='suspensionstep',
                    name='recorded_by',
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='registrato da'),
                ),
            ],
        ),
    ]
