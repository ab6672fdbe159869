"""The contract deadline sweeps (portal/deadlines.py runs them; beat schedules them daily), the receipt
of a withdrawal and the PDF of a direct debit mandate."""

from celery import shared_task

from contracts import mandates, services
from contracts.models import ConditionChangeNotice, Contract, SddMandate, Service, WithdrawalRequest
from portal import deadlines

RENEWAL_NOTICES = deadlines.register(
    deadlines.Sweep(
        name="contracts.renewal_notices",
        description="Comunicazione di rinnovo o disdetta 3 mesi prima della scadenza (CG 3.1)",
        pending=lambda: Contract.objects.filter(
            status=Contract.Status.ACTIVE, renewal_notice_sent_on__isnull=True
        ),
        due_field="renewal_notice_due_on",
        act=lambda contract, ctx: services.send_renewal_notice(contract, today=ctx.today, late=ctx.late),
        batch_size=50,  # each notice renders a PDF letter
    )
)

EXPIRIES = deadlines.register(
    deadlines.Sweep(
        name="contracts.expiries",
        description="Rinnovo tacito alla scadenza, o cessazione se annunciata (CG 3.1)",
        pending=lambda: Contract.objects.filter(status=Contract.Status.ACTIVE),
        due_field="expires_on",
        act=lambda contract, ctx: services.renew_or_end_at_expiry(contract, today=ctx.today),
    )
)

TERMINATIONS = deadlines.register(
    deadlines.Sweep(
        name="contracts.terminations",
        description="Cessazione dei contratti alla data di efficacia del recesso",
        pending=lambda: Contract.objects.filter(status=Contract.Status.TERMINATING),
        due_field="terminates_on",
        act=lambda contract, ctx: services.end_contract_on_termination_date(contract, today=ctx.today),
    )
)

SERVICE_DEACTIVATIONS = deadlines.register(
    deadlines.Sweep(
        name="contracts.service_deactivations",
        description="Disattivazione dei singoli servizi (recesso parziale)",
        pending=lambda: Service.objects.filter(status=Service.Status.DEACTIVATING).select_related("contract"),
        due_field="deactivates_on",
        act=lambda service, ctx: services.deactivate_service_on_date(service, today=ctx.today),
    )
)


CONDITION_CHANGE_NOTICES = deadlines.register(
    deadlines.Sweep(
        name="contracts.condition_change_notices",
        description="Comunicazioni delle variazioni unilaterali delle condizioni (art. 9.3)",
        pending=lambda: ConditionChangeNotice.objects.filter(sent_on__isnull=True).select_related(
            "change", "contract__customer"
        ),
        due_field="due_on",
        act=lambda notice, ctx: services.send_condition_change_notice(notice, today=ctx.today),
        schedule=300.0,  # staff watch the progress after announcing: send within minutes
        batch_size=50,
    )
)

WITHDRAWAL_RECEIPTS = deadlines.register(
    deadlines.catch_up(
        name="contracts.withdrawal_receipts",
        description="Recessi ancora senza ricevuta (coda non raggiunta): la invia",
        unsent=lambda: WithdrawalRequest.objects.filter(receipt_sent_at__isnull=True),
        due_field="received_on",  # served by the partial index withdrawal_receipt_pending
        act=lambda withdrawal, ctx: services.send_withdrawal_receipt(withdrawal),
    )
)


MANDATE_DOCUMENTS = deadlines.register(
    deadlines.catch_up(
        name="contracts.mandate_documents",
        description="Mandati SDD firmati ancora senza il PDF nelle Comunicazioni (coda non raggiunta): lo invia",
        unsent=lambda: SddMandate.objects.filter(document_sent_at__isnull=True),
        due_field="signed_at",  # served by the partial index mandate_document_pending
        queued_at="signed_at",
        act=lambda mandate, ctx: mandates.send_mandate_document(mandate),
    )
)


@shared_task(queue="pdf")
def send_withdrawal_receipt(withdrawal_id: int) -> None:
    """Queued when a withdrawal commits: its PDF receipt is rendered here, never in the request (DESIGN.md
    §4). Run again (acks_late redelivery), it finds the receipt written and neither renders nor sends."""
    services.send_withdrawal_receipt(WithdrawalRequest.objects.get(pk=withdrawal_id))


@shared_task(queue="pdf")
def send_mandate_document(mandate_id: int) -> None:
    """Queued when a mandate is signed: its PDF goes to the customer's Comunicazioni, rendered here and never
    in the request. Run again, it finds the document sent and does nothing."""
    mandates.send_mandate_document(SddMandate.objects.get(pk=mandate_id))
