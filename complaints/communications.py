"""What the complainant receives: acknowledgement with the case code and a PDF copy of the filed form, the
reasoned reply letter, requests for information, status reports, the conciliation notice.

Everything goes through the notification outbox; a sender not identified as a customer (public form) is
reached by e-mail at the address they gave. A sender with neither (a letter or a call from someone who is not
a customer) is reached by ordinary post at the reply address: each communication is then a PDF letter in the
letters to post (admin "Lettere da spedire"), and the reply counts as sent on the day staff post it
(services.send_reply).
"""

from django.conf import settings

from complaints import complaint_form, selectors
from complaints.models import Complaint, ComplaintEvent
from portal.lib import dates
from portal.lib.emails import absolute_url
from portal.lib.pdf import render_pdf
from portal.notifications import rendering
from portal.notifications.models import Communication, Delivery
from portal.notifications.services import Recipient, notify


def _send(
    complaint: Complaint, template_key: str, *, dedupe: str, context=None, document=None, document_name=""
):
    dedupe_key = f"complaints.{dedupe}"
    existing = Communication.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing  # a task run again: notify would return it too, but only after rendering the PDF
    # Which conciliation body the texts name: decided here, never restated in the templates.
    context = {
        "complaint": complaint,
        "communications_case": selectors.is_communications_case(complaint),
        **(context or {}),
    }
    channel, link = Delivery.Channel.EMAIL, case_url(complaint)
    if complaint.customer is not None:
        who = {"customer": complaint.customer}
        language = complaint.customer.language
    elif complaint.sender_email:
        who = {"recipient": Recipient(name=complaint.sender_name, email=complaint.sender_email)}
        language = "it"
    else:
        who = {"recipient": Recipient(name=complaint.sender_name, postal_address=complaint.reply_address)}
        language = "it"
        # Paper has no link to follow, and the tracking page asks for an e-mail address this sender lacks.
        channel, link = Delivery.Channel.POST, ""
        context["by_post"] = True
        if document is None:  # what is posted is a PDF: the message itself becomes the letter

            def document(language):
                return _message_letter(complaint, template_key, context, language)

    return notify(
        **who,
        template_key=template_key,
        context=context,
        channels=[channel],
        dedupe_key=dedupe_key,
        document=document(language) if document else None,
        document_name=document_name,
        about=complaint,
        link=link,
    )


def _message_letter(complaint: Complaint, template_key: str, context: dict, language: str) -> bytes:
    """A communication with no document of its own, as a letter to the reply address: the same words as the
    message, without what only an e-mail has (link, inbox, attachment notes)."""
    rendered = rendering.render_communication(
        template_key=template_key,
        context={
            **context,
            "letter": True,
            "supplier": settings.SUPPLIER,
            "recipient_name": complaint.sender_name,
            "customer": None,
            "link": "",
            "has_document": False,
        },
        language=language,
    )
    return render_pdf(
        "pdf/letter.html",
        {
            "subject": rendered.subject,
            "body": rendered.text,
            "recipient_name": complaint.sender_name,
            "recipient_address": complaint.reply_address,
            "reference": complaint.code,
        },
        language=language,
    )


def case_url(complaint: Complaint) -> str:
    """Where the complainant follows the case: its page in the Area Clienti when they have an account, else
    «Segui la tua pratica» with the case code filled in (the e-mail address they type proves it is theirs)."""
    if complaint.customer is not None and complaint.customer.user_id is not None:
        return absolute_url("complaints:detail", complaint.code)
    return absolute_url("complaints:track_request", query={"codice": complaint.code})


def form_context(complaint: Complaint) -> dict:
    return {"complaint": complaint, "filled": True, "document_date": complaint.sent_on}


def acknowledge(complaint: Complaint):
    """The acknowledgement (AGCOM: with the identification code) and the customer's copy of the form.

    Sent by complaints.tasks.send_acknowledgement once the filing has committed: never in the request."""
    return _send(
        complaint,
        "complaint_ack",
        dedupe=f"ack:{complaint.pk}",
        document=lambda language: complaint_form.filled(form_context(complaint), language=language),
        document_name=f"reclamo-{complaint.code}.pdf",
    )


def reply_context(complaint: Complaint) -> dict:
    return {
        "complaint": complaint,
        "document_date": complaint.answered_on or dates.today(),
        "recipient_name": complaint.sender_name,
        "recipient_address": complaint.reply_address,
        "customer_code": complaint.customer.code if complaint.customer else "",
        "reference": complaint.code,
    }


def render_reply_letter(complaint: Complaint, language: str | None = None) -> bytes:
    """The reasoned reply letter; staff preview it before sending with the same function."""
    return render_pdf("pdf/complaint_reply.html", reply_context(complaint), language=language)


def render_reply_preview(complaint: Complaint, *, today) -> bytes:
    """The letter of a reply not sent yet as it would leave today, with the indemnity it would grant (the
    amount is set on this copy of the case only: nothing is saved)."""
    if complaint.answered_on is None:
        complaint.indemnity_amount = selectors.indemnity_due(complaint, answered_on=today)
    language = complaint.customer.language if complaint.customer else None
    return render_reply_letter(complaint, language)


def reply(complaint: Complaint):
    return _send(
        complaint,
        "complaint_reply",
        dedupe=f"reply:{complaint.pk}",
        document=lambda language: render_reply_letter(complaint, language),
        document_name=f"risposta-{complaint.code}.pdf",
    )


def information_requested(complaint: Complaint, *, text: str):
    count = complaint.events.filter(kind=ComplaintEvent.Kind.INFORMATION_REQUESTED).count()
    return _send(
        complaint,
        "complaint_information_requested",
        dedupe=f"info:{complaint.pk}:{count}",
        context={"request_text": text},
        document_name=f"richiesta-informazioni-{complaint.code}-{count}.pdf",
    )


def status_report(complaint: Complaint, *, event: ComplaintEvent):
    return _send(
        complaint,
        "complaint_status_report",
        dedupe=f"status:{event.pk}",
        context={"event": event},
        document_name=f"resoconto-{complaint.code}-{event.pk}.pdf",
    )


def conciliation_available(complaint: Complaint):
    return _send(
        complaint,
        "complaint_conciliation",
        dedupe=f"conciliation:{complaint.pk}",
        document_name=f"conciliazione-{complaint.code}.pdf",
    )
