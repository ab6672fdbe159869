"""How the customer pays and receives bills: the SEPA direct debit mandate (domiciliazione bancaria) and the
choice between bolletta web and paper bills.

A mandate is signed by the customer's click on the contract's payment page: it sets the contract's payment
method to SDD and its IBAN, so the next invoice issued freezes them (billing.services._freeze_copies);
invoices already issued keep the method they were issued with. A change of account revokes the mandate and
signs a new one; a revocation puts back the method the contract had before the first mandate. Functions are
keyword-only and transactional; the mandate's PDF is rendered by a task after the commit.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import Contract, SddMandate
from contracts.pdf import letter_context
from portal.lib.dates import rome_date
from portal.lib.emails import absolute_url
from portal.lib.pdf import render_pdf
from portal.notifications.services import notify

# SEPA's mandate reference admits letters, digits and / - ? : ( ) . , ' + and spaces; a contract number may
# also hold "_", written "." in the reference.
_REFERENCE_CHARACTERS = str.maketrans({"_": "."})


def masked_iban(iban: str) -> str:
    """An IBAN as documents print it: country and check digits, then only the last four characters,
    "IT60 •••• •••• 3456"."""
    compact = "".join(str(iban or "").split())
    return f"{compact[:4]} •••• •••• {compact[-4:]}" if compact else ""


def active_mandate(contract: Contract) -> SddMandate | None:
    return contract.mandates.filter(status=SddMandate.Status.ACTIVE).first()


def mandate_at_issue(*, contract_id: int, issued_on: date) -> SddMandate | None:
    """The mandate an invoice issued on `issued_on` with SDD is debited under: the last one signed by then.

    The invoice PDF is rendered right after the issue, before any later change of account can be signed."""
    return (
        SddMandate.objects.filter(contract_id=contract_id, signed_at__date__lte=issued_on)
        .order_by("-signed_at")
        .first()
    )


def _check_can_sign(contract: Contract) -> None:
    if contract.status in Contract.ENDED_STATUSES:
        raise ValidationError(_("Il contratto è cessato: non si può attivare l'addebito diretto."))


def _holder(contract: Contract, *, holder_is_customer: bool, holder_name: str, holder_tax_code: str):
    """The account holder's name and codice fiscale: the customer's own are on record; someone else's
    codice fiscale is required, the bank checks it against the account."""
    if holder_is_customer:
        return contract.customer.display_name, ""
    errors = {}
    if not holder_name.strip():
        errors["holder_name"] = _("Scrivi il nome e cognome dell'intestatario del conto.")
    if not holder_tax_code:
        errors["holder_tax_code"] = _(
            "Il conto è intestato a un'altra persona: scrivi il suo codice fiscale."
        )
    if errors:
        raise ValidationError(errors)
    return holder_name.strip(), holder_tax_code


def _next_reference(contract: Contract) -> str:
    """The contract's number and the mandate's sequence on it: OPT-0000123-M01, OPT-0000123-M02…"""
    # Under the contract's row lock: two clicks never count the same number. Mandates are never deleted.
    prefix = f"{contract.number.translate(_REFERENCE_CHARACTERS)}-M"
    sequence = SddMandate.objects.filter(reference__startswith=prefix).count() + 1
    return f"{prefix}{sequence:02d}"


def _sign(
    contract: Contract,
    *,
    holder_is_customer: bool,
    holder_name: str,
    holder_tax_code: str,
    iban: str,
    previous_payment_method: str,
    by,
    ip: str | None,
    now: datetime,
) -> SddMandate:
    name, tax_code = _holder(
        contract,
        holder_is_customer=holder_is_customer,
        holder_name=holder_name,
        holder_tax_code=holder_tax_code,
    )
    mandate = SddMandate(
        contract=contract,
        reference=_next_reference(contract),
        holder_name=name,
        holder_tax_code=tax_code,
        iban=iban,
        signed_at=now,
        signed_by=by,
        signed_from_ip=ip,
        previous_payment_method=previous_payment_method,
    )
    mandate.full_clean(exclude=["contract"])
    mandate.save()
    contract.payment_method = Contract.PaymentMethod.SDD
    contract.iban = mandate.iban
    contract.save(update_fields=["payment_method", "iban"])
    _queue_mandate_document(mandate)
    return mandate


def _revoke(mandate: SddMandate, *, by, now: datetime) -> None:
    mandate.status = SddMandate.Status.REVOKED
    mandate.revoked_at = now
    mandate.revoked_by = by
    mandate.save(update_fields=["status", "revoked_at", "revoked_by"])


@transaction.atomic
def activate_mandate(
    *,
    contract: Contract,
    holder_is_customer: bool,
    holder_name: str = "",
    holder_tax_code: str = "",
    iban: str,
    by=None,
    ip: str | None = None,
    now: datetime,
) -> SddMandate:
    """Domiciliazione bancaria: from the next invoice issued, the contract's bills are debited to `iban`."""
    contract = Contract.objects.select_for_update().select_related("customer").get(pk=contract.pk)
    _check_can_sign(contract)
    if active_mandate(contract) is not None:
        raise ValidationError(_("L'addebito diretto è già attivo: puoi cambiare il conto o revocarlo."))
    # A contract on SDD without a mandate (entered before mandates were signed online) goes back to the
    # postal slip, the default, when revoked.
    previous = (
        Contract.PaymentMethod.POSTAL_SLIP
        if contract.payment_method == Contract.PaymentMethod.SDD
        else contract.payment_method
    )
    return _sign(
        contract,
        holder_is_customer=holder_is_customer,
        holder_name=holder_name,
        holder_tax_code=holder_tax_code,
        iban=iban,
        previous_payment_method=previous,
        by=by,
        ip=ip,
        now=now,
    )


@transaction.atomic
def change_mandate(
    *,
    contract: Contract,
    holder_is_customer: bool,
    holder_name: str = "",
    holder_tax_code: str = "",
    iban: str,
    by=None,
    ip: str | None = None,
    now: datetime,
) -> SddMandate:
    """Another account: the active mandate is revoked and a new one signed, in one step."""
    contract = Contract.objects.select_for_update().select_related("customer").get(pk=contract.pk)
    _check_can_sign(contract)
    current = active_mandate(contract)
    if current is None:
        raise ValidationError(_("L'addebito diretto non è attivo su questo contratto."))
    _revoke(current, by=by, now=now)
    return _sign(
        contract,
        holder_is_customer=holder_is_customer,
        holder_name=holder_name,
        holder_tax_code=holder_tax_code,
        iban=iban,
        previous_payment_method=current.previous_payment_method,
        by=by,
        ip=ip,
        now=now,
    )


@transaction.atomic
def revoke_mandate(*, contract: Contract, by=None, now: datetime) -> SddMandate:
    """The next invoices are paid as before the mandate (by postal slip unless the contract had another
    method); those already issued with SDD are still debited."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    current = active_mandate(contract)
    if current is None:
        raise ValidationError(_("L'addebito diretto non è attivo su questo contratto."))
    _revoke(current, by=by, now=now)
    contract.payment_method = current.previous_payment_method
    contract.iban = ""
    contract.save(update_fields=["payment_method", "iban"])
    return current


def _queue_mandate_document(mandate: SddMandate) -> None:
    from contracts.tasks import send_mandate_document  # here: contracts.tasks imports this module

    # The PDF is rendered by a worker once the mandate is committed (DESIGN.md §4). robust: a broker outage
    # must not turn a signed mandate into an error page.
    transaction.on_commit(lambda: send_mandate_document.delay(mandate.pk), robust=True)


def send_mandate_document(mandate: SddMandate) -> None:
    """The signed mandate as a PDF in the customer's Comunicazioni (and by e-mail). Run again, it finds the
    document sent and renders nothing; the row lock makes a redelivered task wait for the first."""
    with transaction.atomic():
        mandate = (
            SddMandate.objects.select_for_update(of=("self",))
            .select_related("contract__customer")
            .get(pk=mandate.pk)
        )
        if mandate.document_sent_at is not None:
            return
        contract, customer = mandate.contract, mandate.contract.customer
        context = letter_context(
            customer,
            contract,
            document_date=rome_date(mandate.signed_at),
            mandate=mandate,
            masked_iban=masked_iban(mandate.iban),
        )
        notify(
            customer=customer,
            template_key="sdd_mandate",
            context=context,
            channels=["email"],
            dedupe_key=f"contracts.sdd_mandate:{mandate.pk}",
            document=render_pdf("pdf/sdd_mandate.html", context, language=customer.language),
            document_name=f"mandato-sdd-{mandate.reference}.pdf",
            about=mandate,
            link=absolute_url("contracts:payment", contract.number),
        )
        SddMandate.objects.filter(pk=mandate.pk).update(document_sent_at=timezone.now())


# ---------------------------------------------------------------------------------------------------------
# Bolletta web or paper bills
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def choose_bill_delivery(*, contract: Contract, paper_bills: bool, now: datetime) -> Contract:
    """Bills by e-mail only (bolletta web) or also on paper by post, from the next invoice issued. The date
    of the choice is recorded, and printed on the bills, only when the choice changes."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.paper_bills != paper_bills or contract.bill_delivery_chosen_at is None:
        contract.paper_bills = paper_bills
        contract.bill_delivery_chosen_at = now
        contract.save(update_fields=["paper_bills", "bill_delivery_chosen_at"])
    return contract
