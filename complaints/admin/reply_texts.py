"""Reply templates and snippets: the starting texts of the reasoned reply, kept by supervisors.

Complaints officers may read them (the view permission, portal.roles) and use them from the case page;
only supervisors add, change or switch them off. The generated parts of a reply (conciliation, contacts,
payment reminder, indemnity) are not among these fields, so no template can change them.
"""

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from complaints import reply_templates
from complaints.models import ReplySnippet, ReplyTemplate


def _fields_help():
    return format_html_join("", "<br><code>{{{}}}</code>: {}", sorted(reply_templates.FIELDS.items()))


_TEMPLATE_TEXTS = ["complaint_text", "checks_text", "conclusions_text", "rights_intro"]


class _TextsForm(forms.ModelForm):
    """Refuses a {name} no case can fill, instead of leaving it in a customer's letter."""

    texts: list[str] = []

    def clean(self):
        cleaned = super().clean()
        for name in self.texts:
            unknown = reply_templates.unknown_fields(cleaned.get(name) or "")
            if unknown:
                self.add_error(
                    name,
                    _("Segnaposto sconosciuti: %(names)s. Quelli possibili sono elencati sotto il campo.")
                    % {"names": ", ".join(f"{{{unknown_name}}}" for unknown_name in unknown)},
                )
        return cleaned


class ReplyTemplateForm(_TextsForm):
    texts = _TEMPLATE_TEXTS

    class Meta:
        model = ReplyTemplate
        fields = ["name", "active", "kind", "sector", "topic", "outcome", *_TEMPLATE_TEXTS]


class ReplySnippetForm(_TextsForm):
    texts = ["text"]

    class Meta:
        model = ReplySnippet
        fields = ["title", "section", "text", "active"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    form = ReplyTemplateForm
    list_display = ["name", "kind", "sector", "topic", "outcome", "active", "updated_at"]
    list_filter = ["active", "kind", "sector", "topic", "outcome"]
    search_fields = ["name", "complaint_text", "checks_text", "conclusions_text"]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["name", "active"]}),
            (
                _("Si applica a"),
                {
                    "description": _(
                        "I campi vuoti valgono per tutti. Per ogni sezione la bozza usa il modello più "
                        "specifico che la contiene; una sezione vuota viene da un modello più generale."
                    ),
                    "fields": [("kind", "sector"), ("topic", "outcome")],
                },
            ),
            (
                _("Testi di partenza"),
                {
                    "description": _(
                        "Scrivi «[da completare: …]» dove chi risponde deve intervenire: la risposta non "
                        "parte finché ne resta uno. Conciliazione, contatti, promemoria sul pagamento e "
                        "indennizzo li aggiunge sempre il portale. Segnaposto possibili:"
                    )
                    + _fields_help(),
                    "fields": _TEMPLATE_TEXTS,
                },
            ),
        ]


@admin.register(ReplySnippet)
class ReplySnippetAdmin(admin.ModelAdmin):
    form = ReplySnippetForm
    list_display = ["title", "section", "active", "updated_at"]
    list_filter = ["active", "section"]
    search_fields = ["title", "text"]

    def get_fieldsets(self, request, obj=None):
        return [
            (
                None,
                {
                    "description": _(
                        "Un paragrafo che chi risponde aggiunge con un clic alla sezione indicata, dalla "
                        "pagina del caso. Segnaposto possibili:"
                    )
                    + _fields_help(),
                    "fields": ["title", "section", "text", "active"],
                },
            )
        ]
