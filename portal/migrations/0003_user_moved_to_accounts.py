"""User now lives in accounts: the sweep failures' foreign key points there and the model leaves portal's
migration state; its content type (with its permissions) becomes accounts.user.

Nothing changes in the database: accounts.User keeps the table portal_user (with portal_user_groups
and portal_user_user_permissions) and accounts.Customer keeps contracts_customer, so the foreign keys'
columns and constraints stay as they are.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _rename_content_type(apps, schema_editor, model, old_app, new_app):
    """Move the content type (and so its permissions, held by the staff roles' groups) to the new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    if types.filter(app_label=old_app, model=model).exists():
        # One made by a partial migrate would hold only auto-created permissions: the old one is the real one.
        types.filter(app_label=new_app, model=model).delete()
        types.filter(app_label=old_app, model=model).update(app_label=new_app)


def forwards(apps, schema_editor):
    _rename_content_type(apps, schema_editor, "user", "portal", "accounts")


def backwards(apps, schema_editor):
    _rename_content_type(apps, schema_editor, "user", "accounts", "portal")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('billing', '0006_user_and_customer_in_accounts'),
        ('complaints', '0003_user_and_customer_in_accounts'),
        ('contracts', '0005_customer_moved_to_accounts'),
        ('notifications', '0003_user_and_customer_in_accounts'),
        ('portal', '0002_sweeprun_sweepfailure'),
    ]

    operations = [
        # State only: the tables, columns and constraints are already right (see the docstring).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='sweepfailure',
                    name='resolved_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='risolto da'),
                ),
                migrations.DeleteModel(
                    name='User',
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
