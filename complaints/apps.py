from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = "Reclami e richieste"

    def ready(self):
        post_migrate.connect(_seed_reply_templates, sender=self)


def _seed_reply_templates(using, apps=global_apps, **kwargs):
    """A new database starts with the default reply templates (also after a test flushes the tables: flush
    sends the signal without `apps`)."""
    from complaints import default_reply_templates

    try:
        template_model = apps.get_model("complaints", "ReplyTemplate")
    except LookupError:  # migrated back to before templates existed
        return
    default_reply_templates.seed(template_model.objects.db_manager(using))
