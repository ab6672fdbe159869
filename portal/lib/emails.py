"""What every e-mail the portal sends has in common, in one place.

- Links to the portal are absolute and built from `PORTAL_BASE_URL` (`absolute_url`): a worker sending a
  notice has no request to take the host from.
- A customer e-mail is the supplier's branded layout (`templates/notifications/email/layout.{txt,html}`)
  around a body, in the customer's language, answered at customer service (`customer_email`).
- Whatever sends it — the outbox, a password reset, a staff alert, `sendtestemail` — a message leaves through
  `EmailBackend`, which adds what an automatic message must carry: `Auto-Submitted` and a Message-ID in the
  portal's domain.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection, make_msgid
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe

# RFC 3834: a message no person wrote. Mail servers and clients send no out-of-office or other automatic
# replies to it.
AUTO_SUBMITTED = "auto-generated"


def absolute_url(viewname: str, *args, query: dict | None = None) -> str:
    """The portal's page `viewname` as an absolute URL for an e-mail, e.g.
    `absolute_url("billing:invoice", 12)` → `https://areaclienti.optimaitalia.com/bollette/12/`."""
    url = settings.PORTAL_BASE_URL + reverse(viewname, args=args)
    return f"{url}?{urlencode(query)}" if query else url


def new_message_id() -> str:
    """A Message-ID in the portal's domain (EMAIL_MESSAGE_ID_DOMAIN, by default PORTAL_BASE_URL's host), e.g.
    `<171...@areaclienti.optimaitalia.com>`: never the machine's name, which Django would use."""
    return make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN)


def customer_email(
    *,
    subject: str,
    text: str,
    html: str,
    to: list[str],
    language: str,
    headers: dict | None = None,
    connection=None,
) -> EmailMultiAlternatives:
    """An e-mail to a customer: `text` and `html` (greeting to signature, `html` rendered by our templates
    with autoescape on) inside the supplier's layout, in `language`. Replies go to customer service: the
    sender address is a mailbox nobody reads."""
    context = {
        "subject": subject,
        "body_text": text.strip() + "\n",
        "body_html": mark_safe(html.strip()),
        "supplier": settings.SUPPLIER,
        "language": language,
    }
    with translation.override(language):
        text = render_to_string("notifications/email/layout.txt", context)
        html = render_to_string("notifications/email/layout.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=[settings.SUPPLIER["email"]],
        headers={"Auto-Submitted": AUTO_SUBMITTED, **(headers or {})},
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message


def templated_customer_email(
    *,
    subject_template: str,
    text_template: str,
    html_template: str,
    context: dict,
    to: list[str],
    language: str,
) -> EmailMultiAlternatives:
    """`customer_email` with its subject and bodies rendered from templates in `language`: the e-mails sent
    outside the outbox (activation link, password reset). `language` is one of LANGUAGES."""
    context = {"supplier": settings.SUPPLIER, **context}
    with translation.override(language):
        subject = " ".join(render_to_string(subject_template, context).split())
        text = render_to_string(text_template, context)
        html = render_to_string(html_template, context)
    return customer_email(subject=subject, text=text, html=html, to=to, language=language)


class EmailBackend(BaseEmailBackend):
    """The backend in `EMAIL_BACKEND`: adds `Auto-Submitted` and a Message-ID in the portal's domain to every
    message that has none, then hands it to `EMAIL_DELIVERY_BACKEND` (the one `EMAIL_URL` names).

    Here rather than in each sender so that no e-mail can leave without them, whoever builds it. A header the
    sender set is kept: the outbox fixes each delivery's Message-ID when it is created, so that a resend after
    a crash is recognisably the same message."""

    def __init__(self, fail_silently=False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self.backend = get_connection(settings.EMAIL_DELIVERY_BACKEND, fail_silently=fail_silently, **kwargs)

    def open(self):
        return self.backend.open()

    def close(self):
        return self.backend.close()

    def send_messages(self, email_messages):
        for message in email_messages:
            present = {name.lower() for name in message.extra_headers}
            if "auto-submitted" not in present:
                message.extra_headers["Auto-Submitted"] = AUTO_SUBMITTED
            if "message-id" not in present:
                message.extra_headers["Message-ID"] = new_message_id()
        return self.backend.send_messages(email_messages)
