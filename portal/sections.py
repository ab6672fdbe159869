"""The sections of the Area Clienti home page, in the order a customer sees them."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    text: str
    url_name: str

    @property
    def url(self):
        # A section whose app has not shipped its pages yet is shown without a link rather than a 404.
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


SECTIONS = [
    Section(
        "contracts",
        _("Contratti e forniture"),
        _("I tuoi contratti, le forniture di luce e gas, fibra e mobile, le autoletture."),
        "contracts:list",
    ),
    Section(
        "invoices",
        _("Bollette"),
        _("Scarica le bollette in PDF, controlla scadenze e pagamenti."),
        "billing:invoices",
    ),
    Section(
        "complaints",
        _("Reclami e richieste"),
        _("Invia un reclamo scritto e seguine lo stato fino alla risposta."),
        "complaints:list",
    ),
    Section(
        "inbox",
        _("Comunicazioni"),
        _("Lettere, avvisi e risposte che ti abbiamo inviato."),
        "notifications:inbox",
    ),
    Section("profile", _("Profilo"), _("I tuoi dati, i recapiti e la password."), "profile"),
]
