"""The customer's "Reclami e richieste", the public complaint form, tracking by link, the Assistenza page.

Thin views over complaints/selectors.py and complaints/services.py. A case is reached in one of two ways
only: it is one of the logged-in customer's own, or this browser followed a valid tracking link for it (the
session remembers the case until the link expires). Anything else answers 404 — or the login page for a
visitor who is not logged in — whatever the code, so codes cannot be probed.

Documents are never rendered here: the copy of the filed form and the reply letter are the stored documents
of their communications, and the blank form is rendered once per process and language.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial, wraps
from pathlib import PurePath
from tempfile import SpooledTemporaryFile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing.selectors import pdf_filename
from complaints import complaint_form, selectors, services, tasks
from complaints.forms import ComplaintForm, MessageForm, PublicComplaintForm, TrackRequestForm
from complaints.models import Complaint
from portal.lib import dates, formatting
from portal.notifications.rendering import supported_language

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 20
# The public form and the tracking-link request: at most this many per client address per window.
RATE_LIMIT = 5
RATE_WINDOW = timedelta(hours=1)
# A second "request a status report" within this time shows the answer without recording a new request.
STATUS_REPORT_COOLDOWN = timedelta(minutes=10)
# A dossier up to this size stays in memory; a larger one spills to a temporary file.
ZIP_IN_MEMORY_BYTES = 8 * 1024 * 1024

TRACKED_SESSION_KEY = "complaints.tracked"  # {complaint pk: Unix time the access ends}
FILED_SESSION_KEY = "complaints.filed"  # the case the public form just filed, for its confirmation page


# ---------------------------------------------------------------------------------------------------------
# Who may see a case
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    complaint: Complaint
    # The logged-in customer's own case. A visitor with a tracking link sees the case but not the
    # customer's contract letters and bills (the link went to an address typed in a public form).
    owner: bool


def _grant(request, complaint: Complaint, *, until: float) -> None:
    now = time.time()
    tracked = {key: end for key, end in request.session.get(TRACKED_SESSION_KEY, {}).items() if end > now}
    tracked[str(complaint.pk)] = max(until, tracked.get(str(complaint.pk), 0))
    request.session[TRACKED_SESSION_KEY] = tracked


def _tracked_ids(request) -> set[int]:
    now = time.time()
    return {int(key) for key, end in request.session.get(TRACKED_SESSION_KEY, {}).items() if end > now}


def _access(request, code: str) -> Access | None:
    customer = selectors.customer_of(request.user)
    complaint = selectors.complaints_of(customer).filter(code=code).first()
    if complaint is not None:
        return Access(complaint, owner=True)
    tracked = _tracked_ids(request)
    if tracked:
        complaint = (
            Complaint.objects.select_related("contract", "service", "invoice")
            .filter(code=code, pk__in=tracked)
            .first()
        )
        if complaint is not None:
            return Access(complaint, owner=False)
    return None


def case_view(view):
    """The view gets the `Access` to the case named by `code`; 404 for a case that is not the visitor's."""

    @wraps(view)
    def wrapper(request, code, *args, **kwargs):
        access = _access(request, code)
        if access is None:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise Http404("not one of the visitor's complaints")
        return view(request, access, *args, **kwargs)

    return wrapper


def _login_url(next_url_name: str) -> str:
    return f"{reverse('login')}?next={reverse(next_url_name)}"


def _actor(request):
    return request.user if request.user.is_authenticated else None


def _add_service_error(form, error: ValidationError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# ---------------------------------------------------------------------------------------------------------
# Rate limit (public form and tracking links)
# ---------------------------------------------------------------------------------------------------------


def _rate_key(request, scope: str) -> str:
    # Hashed: client addresses are personal data and have no business in a cache's key space in clear.
    address = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:32]
    return f"complaints:{scope}:{digest}"


def _limit_reached(request, scope: str) -> bool:
    return (cache.get(_rate_key(request, scope)) or 0) >= RATE_LIMIT


def _count_attempt(request, scope: str) -> None:
    """A fixed window in Django's cache: the first attempt opens it, later ones only count."""
    key, timeout = _rate_key(request, scope), int(RATE_WINDOW.total_seconds())
    cache.add(key, 0, timeout=timeout)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr: this attempt opens a new window
        cache.set(key, 1, timeout=timeout)


# ---------------------------------------------------------------------------------------------------------
# The customer's cases
# ---------------------------------------------------------------------------------------------------------


@login_required
@require_safe
def complaint_list(request):
    customer = selectors.customer_of(request.user)
    page = Paginator(selectors.complaints_of(customer), LIST_PAGE_SIZE).get_page(request.GET.get("pagina"))
    context = {
        "customer": customer,
        "page": page,
        "complaints": selectors.with_clock(page.object_list, today=dates.today()),
    }
    return render(request, "complaints/list.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def complaint_new(request):
    customer = selectors.customer_of(request.user)
    if customer is None:
        return render(request, "complaints/new.html", {"customer": None})
    day = dates.today()
    posted = request.method == "POST"
    form = ComplaintForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        customer=customer,
        today=day,
        initial_supply=request.GET.get("fornitura", ""),
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        contract, service = data["supply"]
        try:
            complaint = services.file_complaint(
                kind=data["kind"],
                topic=data["topic"],
                channel=Complaint.Channel.PORTAL,
                description=data["description"],
                # Online complaints are received the day they are sent (TIQV; AR).
                sent_on=day,
                customer=customer,
                contract=contract,
                service=service,
                invoice=data["invoice"],
                reply_address=data["reply_address"],
                attachments=data["attachments"],
                submission_token=data["submission_token"],
                by=request.user,
            )
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            # A double submit finds the case the first one filed: show it again.
            return redirect(f"{reverse('complaints:detail', args=[complaint.code])}?inviato=1")
    return render(request, "complaints/new.html", {"customer": customer, "form": form, "today": day})


@case_view
@require_http_methods(["GET", "POST"])
def complaint_detail(request, access: Access):
    complaint = access.complaint
    attachments_left = services.MAX_ATTACHMENTS - selectors.visible_attachment_count(complaint)
    posted = request.method == "POST"
    form = MessageForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        attachments_left=attachments_left,
    )
    if posted:
        if not complaint.is_open:
            messages.error(request, _("La pratica ha già una risposta: non puoi più scriverci da qui."))
            return redirect("complaints:detail", code=complaint.code)
        if form.is_valid():
            try:
                services.customer_message(
                    complaint=complaint,
                    text=form.cleaned_data["text"],
                    attachments=form.cleaned_data["attachments"],
                    by=_actor(request),
                )
            except ValidationError as error:
                _add_service_error(form, error)
            else:
                messages.success(request, _("Messaggio inviato: lo trovi nella storia della pratica."))
                return redirect(f"{reverse('complaints:detail', args=[complaint.code])}#storia")
    return render(request, "complaints/detail.html", _detail_context(request, access, form))


def _detail_context(request, access: Access, form: MessageForm) -> dict:
    complaint = access.complaint
    day = dates.today()
    conciliation = services.conciliation_available(complaint, today=day)
    return {
        "complaint": complaint,
        "owner": access.owner,
        "today": day,
        "clock": selectors.clock(complaint, today=day),
        "events": selectors.visible_events(complaint),
        "attachments": list(selectors.visible_attachments(complaint)),
        "acknowledgement": selectors.acknowledgement(complaint),
        "reply": selectors.reply_letter(complaint),
        "indemnity_invoices": selectors.indemnity_invoices(complaint) if access.owner else [],
        "conciliation_available": conciliation,
        "conciliation_opens_on": selectors.conciliation_opens_on(complaint),
        "communications_case": selectors.is_communications_case(complaint),
        "just_filed": request.GET.get("inviato") == "1",
        "form": form,
        "can_mark_unsatisfactory": complaint.answered_on is not None and not complaint.unsatisfactory,
    }


@case_view
@require_POST
def status_report(request, access: Access):
    """AGCOM 255/24/CONS: a status report at any time. The request is recorded and the answer is the state."""
    complaint = access.complaint
    if not selectors.recent_status_report(complaint, since=dates.now() - STATUS_REPORT_COOLDOWN):
        services.request_status_report(complaint=complaint, by=_actor(request))
    messages.success(request, _status_text(complaint))
    return redirect("complaints:detail", code=complaint.code)


def _status_text(complaint: Complaint) -> str:
    status = _("Stato della pratica %(code)s: %(status)s.") % {
        "code": complaint.code,
        "status": complaint.get_status_display(),
    }
    if complaint.answered_on is not None:
        clock = _("Risposta inviata il %(day)s.") % {"day": formatting.day(complaint.answered_on)}
    else:
        left = selectors.days_left(complaint, today=dates.today())
        due = formatting.day(complaint.answer_due_on)
        if left > 0:
            clock = ngettext(
                "Risposta entro il %(day)s: manca %(count)s giorno.",
                "Risposta entro il %(day)s: mancano %(count)s giorni.",
                left,
            ) % {"day": due, "count": left}
        elif left == 0:
            clock = _("Risposta entro oggi, %(day)s.") % {"day": due}
        else:
            clock = _("Il termine per la risposta era il %(day)s: siamo in ritardo e te ne scusiamo.") % {
                "day": due
            }
    mail = ""
    if complaint.customer_id or complaint.sender_email:
        mail = _("Ti abbiamo inviato il resoconto anche per e-mail.")
    return " ".join(part for part in (status, clock, mail) if part)


@case_view
@require_POST
def unsatisfactory(request, access: Access):
    complaint = access.complaint
    if not complaint.unsatisfactory:
        try:
            services.mark_unsatisfactory(complaint=complaint, by=_actor(request))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("complaints:detail", code=complaint.code)
    messages.info(
        request,
        _(
            "Abbiamo registrato che la risposta non ti soddisfa. Qui sotto trovi come chiedere la conciliazione."
        ),
    )
    return redirect(f"{reverse('complaints:detail', args=[complaint.code])}#conciliazione")


# ---------------------------------------------------------------------------------------------------------
# Files of a case: attachments, the copy of the form, the reply letter, the dossier
# ---------------------------------------------------------------------------------------------------------


def _serve(file, *, filename: str, content_type: str) -> FileResponse:
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404("file missing from storage") from None
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


@case_view
@require_safe
def attachment(request, access: Access, pk: int):
    item = get_object_or_404(selectors.visible_attachments(access.complaint), pk=pk)
    return _serve(item.file, filename=_safe_name(item.original_name), content_type=item.content_type)


@case_view
@require_safe
def copy_pdf(request, access: Access):
    """The customer's copy of the filed form: the document stored with the acknowledgement."""
    communication = selectors.acknowledgement(access.complaint)
    if communication is None:
        raise Http404("no acknowledgement with a document")
    name = communication.document_name or f"reclamo-{access.complaint.code}.pdf"
    return _serve(communication.document, filename=name, content_type="application/pdf")


@case_view
@require_safe
def reply_pdf(request, access: Access):
    communication = selectors.reply_letter(access.complaint)
    if communication is None:
        raise Http404("no reply letter yet")
    name = communication.document_name or f"risposta-{access.complaint.code}.pdf"
    return _serve(communication.document, filename=name, content_type="application/pdf")


def _safe_name(name: str) -> str:
    """A file name as the customer gave it, without folders (for downloads and ZIP entries)."""
    name = PurePath(name.replace("\\", "/")).name.strip()
    return name or "allegato"


@case_view
@require_safe
def dossier(request, access: Access):
    """Everything a conciliation body asks for, in one ZIP: the filed form, the reply letter, the attachments,
    and for the customer's own case the contract's letters and the related bills. Stored files only."""
    complaint = access.complaint
    entries = []  # (name in the ZIP, file field)
    acknowledgement = selectors.acknowledgement(complaint)
    if acknowledgement is not None:
        entries.append((f"01-reclamo-{complaint.code}.pdf", acknowledgement.document))
    reply = selectors.reply_letter(complaint)
    if reply is not None:
        entries.append((f"02-risposta-{complaint.code}.pdf", reply.document))
    for number, item in enumerate(selectors.visible_attachments(complaint), start=1):
        entries.append((f"allegati/{number:02d}-{_safe_name(item.original_name)}", item.file))
    if access.owner:
        for communication in selectors.dossier_contract_documents(complaint):
            name = _safe_name(communication.document_name or "documento.pdf")
            entries.append(
                (
                    f"contratto/{communication.created_at:%Y-%m-%d}-{communication.pk}-{name}",
                    communication.document,
                )
            )
        for invoice in selectors.dossier_invoices(complaint):
            entries.append((f"bollette/{pdf_filename(invoice)}", invoice.pdf))

    archive = SpooledTemporaryFile(max_size=ZIP_IN_MEMORY_BYTES)
    included, missing = [], []
    # PDFs and images are compressed already: storing them is as small as deflating them, and faster.
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zip_file:
        for name, file in entries:
            try:
                source = file.open("rb")
            except FileNotFoundError:
                logger.warning("Dossier of %s: %s missing from storage", complaint.code, file.name)
                missing.append(name)
                continue
            with source, zip_file.open(name, "w") as target:
                while chunk := source.read(1024 * 1024):
                    target.write(chunk)
            included.append(name)
        zip_file.writestr("indice.txt", _dossier_index(complaint, included, missing), zipfile.ZIP_DEFLATED)
    archive.seek(0)
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"fascicolo-{complaint.code}.zip",
        content_type="application/zip",
    )


def _dossier_index(complaint: Complaint, included: list[str], missing: list[str]) -> str:
    lines = [
        _("Fascicolo della pratica %(code)s") % {"code": complaint.code},
        _("%(kind)s inviato il %(sent)s, ricevuto il %(received)s, risposta entro il %(due)s.")
        % {
            "kind": complaint.get_kind_display(),
            "sent": formatting.day(complaint.sent_on),
            "received": formatting.day(complaint.received_on),
            "due": formatting.day(complaint.answer_due_on),
        },
    ]
    if complaint.answered_on:
        lines.append(_("Risposta inviata il %(day)s.") % {"day": formatting.day(complaint.answered_on)})
    lines += ["", _("Contenuto:"), *(f"- {name}" for name in included)]
    if missing:
        lines += [
            "",
            _("Non disponibili al momento (chiedili al Servizio Clienti):"),
            *(f"- {n}" for n in missing),
        ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------
# The blank form (Modulistica)
# ---------------------------------------------------------------------------------------------------------

_blank_forms: dict[str, bytes] = {}
_blank_forms_lock = threading.Lock()


def blank_form_pdf(language: str) -> bytes:
    """The blank complaint form, rendered at most once per process and language: it only changes with a
    deployment (templates, supplier settings), so a request never waits for WeasyPrint after the first."""
    with _blank_forms_lock:
        if language not in _blank_forms:
            _blank_forms[language] = complaint_form.blank(language=language)
        return _blank_forms[language]


@require_safe
def form_pdf(request):
    language = supported_language(translation.get_language() or settings.LANGUAGE_CODE)
    response = HttpResponse(blank_form_pdf(language), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="modulo-reclamo.pdf"'
    response["Cache-Control"] = "public, max-age=86400"
    return response


# ---------------------------------------------------------------------------------------------------------
# Filing without an account
# ---------------------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def public_new(request):
    day = dates.today()
    posted = request.method == "POST"
    form = PublicComplaintForm(request.POST if posted else None, request.FILES if posted else None, today=day)
    if posted:
        if _limit_reached(request, "file"):
            context = {"form": form, "too_many": True, "login_url": _login_url("complaints:new")}
            return render(request, "complaints/public_new.html", context, status=429)
        if form.is_valid():
            _count_attempt(request, "file")
            if form.is_bot:
                return redirect("complaints:public_done")
            complaint = _file_public(request, form, day)
            if complaint is not None:
                return redirect("complaints:public_done")
    return render(
        request, "complaints/public_new.html", {"form": form, "login_url": _login_url("complaints:new")}
    )


def _file_public(request, form: PublicComplaintForm, day: date) -> Complaint | None:
    data = form.cleaned_data
    who = selectors.identify_sender(tax_id=data["tax_id"], reference=data["supply_reference"])
    try:
        complaint = services.file_complaint(
            kind=data["kind"],
            topic=data["topic"],
            channel=Complaint.Channel.PUBLIC_FORM,
            description=data["description"],
            sent_on=day,
            customer=who.customer,
            contract=who.contract,
            service=who.service,
            sender_name=data["sender_name"],
            sender_tax_id=data["tax_id"],
            sender_email=data["email"],
            supply_reference=data["supply_reference"],
            reference_identifies_supply=who.identified,
            reply_address=data["reply_address"],
            attachments=data["attachments"],
            submission_token=data["submission_token"],
            by=_actor(request),
        )
    except ValidationError as error:
        _add_service_error(form, error)
        return None
    # The same page whoever the sender turned out to be: the code and the dates, nothing of the customer's.
    # The case itself is reached through the e-mails, which go to the customer's own address when the sender
    # was identified. (A resubmitted token of someone else's form finds their case: not shown here.)
    if complaint.sender_email.lower() == data["email"]:
        request.session[FILED_SESSION_KEY] = complaint.pk
    return complaint


@never_cache
@require_safe
def public_done(request):
    filed = request.session.get(FILED_SESSION_KEY)
    complaint = Complaint.objects.filter(pk=filed).first() if isinstance(filed, int) else None
    context = {
        "complaint": complaint,
        "clock": selectors.clock(complaint, today=dates.today()) if complaint else None,
        "track_url": reverse("complaints:track_request"),
    }
    return render(request, "complaints/public_done.html", context)


# ---------------------------------------------------------------------------------------------------------
# Tracking without an account: code + e-mail → a link by e-mail
# ---------------------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def track_request(request):
    # The e-mails about a case link here with its code (complaints.communications.case_url): only the
    # address is left to type.
    initial = {"code": request.GET.get("codice", "")[:20]}
    form = TrackRequestForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if _limit_reached(request, "track"):
            context = {"form": form, "too_many": True, "login_url": _login_url("complaints:list")}
            return render(request, "complaints/track_request.html", context, status=429)
        if form.is_valid():
            _count_attempt(request, "track")
            if not form.is_bot:
                # No lookup here, only a message queued: the same work, answer and timing for a pair that
                # matches a case and one that does not. Robust: a broker failure must not show either.
                send = partial(
                    tasks.send_tracking_link.delay,
                    form.cleaned_data["code"],
                    form.cleaned_data["email"],
                    language=translation.get_language() or "it",
                    site_url=request.build_absolute_uri("/").removesuffix("/"),
                    request_id=uuid.uuid4().hex,
                )
                transaction.on_commit(send, robust=True)
            # The same answer whatever happened: only the mailbox owner learns whether the data matched.
            return redirect(f"{reverse('complaints:track_request')}?inviato=1")
    context = {
        "form": form,
        "sent": request.GET.get("inviato") == "1",
        "valid_days": selectors.TRACKING_LINK_MAX_AGE.days,
        "login_url": _login_url("complaints:list"),
    }
    return render(request, "complaints/track_request.html", context)


@never_cache
@require_safe
def track(request, token):
    try:
        complaint, until = selectors.read_tracking_token(token)
    except selectors.ExpiredTrackingLink:
        context = {"expired": True, "valid_days": selectors.TRACKING_LINK_MAX_AGE.days}
        return render(request, "complaints/track_invalid.html", context, status=410)
    except selectors.InvalidTrackingLink:
        return render(request, "complaints/track_invalid.html", {"expired": False}, status=404)
    _grant(request, complaint, until=until)
    # Off the link's URL at once: it does not linger in the address bar, the history or a Referer.
    return redirect("complaints:detail", code=complaint.code)


# ---------------------------------------------------------------------------------------------------------
# Assistenza e Reclami
# ---------------------------------------------------------------------------------------------------------


@require_safe
def help_page(request):
    try:
        quality_url = reverse("complaints_quality:public")
    except NoReverseMatch:  # the quality indicators page is not installed: no link rather than a 404
        quality_url = None
    return render(request, "complaints/help.html", {"quality_url": quality_url})
