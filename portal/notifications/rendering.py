"""Rendering communications and building the e-mails that carry them.

A communication's subject and bodies are rendered once, in the customer's language, from
`templates/notifications/<template_key>/{subject.txt,body.txt,body.html}`; the bodies are the message itself
(greeting to signature), shown as they are in the portal's inbox. The e-mail wraps them in
`templates/notifications/email/layout.{txt,html}` (portal.lib.emails.customer_email): the supplier's header
and footer, nothing the customer has to read twice.
"""

import mimetypes
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation

from portal.lib import emails

# Seconds an SMTP operation may block before it fails (and is retried later) when EMAIL_TIMEOUT is unset:
# a hung connection would otherwise hold a claimed delivery until the task's hard time limit.
SMTP_TIMEOUT = 60


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def supported_language(language: str) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def render_communication(*, template_key: str, context: dict, language: str) -> Rendered:
    folder = f"notifications/{template_key}"
    with translation.override(language):
        subject = render_to_string(f"{folder}/subject.txt", context)
        text = render_to_string(f"{folder}/body.txt", context)
        html = render_to_string(f"{folder}/body.html", context)
    # A header is one line: templates may wrap it for readability.
    return Rendered(subject=" ".join(subject.split()), text=text.strip() + "\n", html=html.strip())


def new_message_id() -> str:
    """A Message-ID in the portal's domain (portal.lib.emails), fixed on the delivery when it is created."""
    return emails.new_message_id()


def build_email(delivery) -> EmailMultiAlternatives:
    """The e-mail for an e-mail or PEC delivery: text and HTML, the document attached, our Message-ID."""
    communication = delivery.communication
    message = emails.customer_email(
        subject=communication.subject,
        text=communication.body_text,
        # Rendered by our templates with autoescape on when the communication was created.
        html=communication.body_html,
        to=[delivery.address],
        language=communication.language,
        headers={"Message-ID": delivery.message_id},
        connection=_connection(),
    )
    if communication.document:
        name = communication.document_name or communication.document.name.rpartition("/")[2]
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        with communication.document.open("rb") as document:
            message.attach(name, document.read(), mimetype)
    return message


def _connection():
    if getattr(settings, "EMAIL_TIMEOUT", None) is None:
        return get_connection(fail_silently=False, timeout=SMTP_TIMEOUT)
    return get_connection(fail_silently=False)
