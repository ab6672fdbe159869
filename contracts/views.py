"""The customer's "Contratti e forniture": contracts, supplies, self-readings, withdrawal, cooling-off, how
bills are paid (direct debit mandate) and received (bolletta web or on paper).

Thin views: they look the customer's own rows up (another customer's number or id is a 404), check the
form, call a service and show its answer. Every date shown comes from contracts/deadlines.py or a service.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from contracts import charts, mandates, selectors, services
from contracts.forms import (
    BillDeliveryForm,
    ContactDetailsForm,
    MandateForm,
    SelfReadingForm,
    WithdrawalForm,
)
from contracts.models import Contract, Service
from portal.lib import dates, formatting


def _own_contract(request, number: str) -> Contract:
    customer = selectors.customer_of(request.user)
    return get_object_or_404(selectors.contracts_of(customer), number=number)


@login_required
def contract_list(request):
    contracts = selectors.contracts_of(selectors.customer_of(request.user))
    return render(request, "contracts/list.html", {"contracts": contracts})


@login_required
def contract_detail(request, number):
    contract = _own_contract(request, number)
    day = dates.today()
    context = {
        "contract": contract,
        **selectors.contract_page_data(contract),
        "can_withdraw": contract.is_withdrawable,
        "cooling_off_until": contract.cooling_off_open_until(day),
        "price_change": services.open_price_change_withdrawal(contract, today=day),
    }
    return render(request, "contracts/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def supply(request, number, service_id):
    contract = _own_contract(request, number)
    service = get_object_or_404(contract.services.filter(kind__in=Service.METERED_KINDS), pk=service_id)
    unit = service.meter_unit
    form = SelfReadingForm(request.POST if request.method == "POST" else None, today=dates.today(), unit=unit)
    if form.is_bound and form.is_valid():
        try:
            services.submit_self_reading(
                service=service,
                value=form.cleaned_data["value"],
                read_on=form.cleaned_data["read_on"],
                by=request.user,
            )
        except ValidationError as error:
            # The service names the field it refuses ("value", "read_on") or none: shown where it belongs.
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Grazie: la lettura %(value)s %(unit)s del %(day)s è registrata e la useremo in bolletta.")
                % {
                    "value": form.cleaned_data["value"],
                    "unit": unit,
                    "day": formatting.day(form.cleaned_data["read_on"]),
                },
            )
            return redirect("contracts:supply", number=contract.number, service_id=service.pk)
    readings = selectors.readings_of(service)
    intervals = charts.consumption_between_readings(readings)
    chart_label = _("Consumi di %(service)s tra una lettura e l'altra, in %(unit)s") % {
        "service": service.get_kind_display(),
        "unit": unit,
    }
    context = {
        "contract": contract,
        "service": service,
        "unit": unit,
        "readings": readings,
        "intervals": intervals[-charts.MAX_BARS :],
        "chart": charts.consumption_svg(intervals, unit=unit, label=chart_label),
        "chart_label": chart_label,
        "form": form,
        "can_submit": service.status == Service.Status.ACTIVE,
    }
    return render(request, "contracts/supply.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, number):
    """Step 1: what and how. A valid choice shows step 2, the quote to confirm."""
    contract = _own_contract(request, number)
    form = WithdrawalForm(request.POST if request.method == "POST" else None, contract=contract)
    if contract.is_withdrawable and form.is_bound and form.is_valid():
        try:
            quote = services.quote_withdrawal(
                contract=contract,
                kind=form.cleaned_data["kind"],
                # A request sent from the portal is received the moment it is sent.
                received_on=dates.today(),
                service=form.cleaned_data["service"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render(
                request,
                "contracts/withdrawal_confirm.html",
                {"contract": contract, "form": form, "quote": quote, "service": form.cleaned_data["service"]},
            )
    return _withdrawal_form(request, contract, form)


@login_required
@require_POST
def withdraw_confirm(request, number):
    """Step 2: the customer confirms. The quote is computed again: posted dates are never trusted."""
    contract = _own_contract(request, number)
    form = WithdrawalForm(request.POST, contract=contract)
    if not contract.is_withdrawable or not form.is_valid():
        return _withdrawal_form(request, contract, form)
    try:
        withdrawal = services.request_withdrawal(
            contract=contract,
            kind=form.cleaned_data["kind"],
            received_on=dates.today(),
            service=form.cleaned_data["service"],
            by=request.user,
            channel="portal",
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _withdrawal_form(request, contract, form)
    return redirect("contracts:withdrawal_done", number=contract.number, pk=withdrawal.pk)


def _withdrawal_form(request, contract, form):
    context = {
        "contract": contract,
        "form": form,
        "can_withdraw": contract.is_withdrawable,
        "price_change": services.open_price_change_withdrawal(contract, today=dates.today()),
    }
    return render(request, "contracts/withdrawal_form.html", context)


@login_required
def withdrawal_done(request, number, pk):
    contract = _own_contract(request, number)
    withdrawal = get_object_or_404(contract.withdrawals.select_related("service"), pk=pk)
    context = {
        "contract": contract,
        "withdrawal": withdrawal,
        "receipt": selectors.withdrawal_receipt(withdrawal),
    }
    return render(request, "contracts/withdrawal_done.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def cooling_off(request, number):
    contract = _own_contract(request, number)
    day = dates.today()
    errors = []
    if request.method == "POST":
        try:
            withdrawal = services.cancel_for_cooling_off(contract=contract, requested_on=day, by=request.user)
        except ValidationError as error:
            errors = error.messages
        else:
            return redirect("contracts:withdrawal_done", number=contract.number, pk=withdrawal.pk)
    context = {
        "contract": contract,
        "last_day": contract.cooling_off_open_until(day),
        "errors": errors,
    }
    return render(request, "contracts/cooling_off.html", context)


@login_required
def payment(request, number):
    contract = _own_contract(request, number)
    return _payment_page(request, contract)


def _payment_page(request, contract, *, mandate_form=None, delivery_form=None):
    mandate = mandates.active_mandate(contract)
    context = {
        "contract": contract,
        "mandate": mandate,
        "can_sign": contract.status not in Contract.ENDED_STATUSES,
        "mandate_form": mandate_form or MandateForm(),
        "delivery_form": delivery_form
        or BillDeliveryForm(initial={"delivery": "paper" if contract.paper_bills else "web"}),
    }
    return render(request, "contracts/payment.html", context)


@login_required
@require_POST
def sign_mandate(request, number):
    """Activates the direct debit, or moves it to another account when one is active."""
    contract = _own_contract(request, number)
    form = MandateForm(request.POST)
    if form.is_valid():
        sign = mandates.change_mandate if mandates.active_mandate(contract) else mandates.activate_mandate
        try:
            mandate = sign(
                contract=contract,
                holder_is_customer=form.holder_is_customer,
                holder_name=form.cleaned_data["holder_name"],
                holder_tax_code=form.cleaned_data["holder_tax_code"],
                iban=form.cleaned_data["iban"],
                by=request.user,
                ip=request.META.get("REMOTE_ADDR"),
                now=timezone.now(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "Addebito diretto attivato (mandato %(reference)s): vale dalla prossima bolletta emessa. "
                    "Trovi il mandato in PDF nelle Comunicazioni."
                )
                % {"reference": mandate.reference},
            )
            return redirect("contracts:payment", number=contract.number)
    return _payment_page(request, contract, mandate_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def revoke_mandate(request, number):
    """GET asks for confirmation; POST revokes."""
    contract = _own_contract(request, number)
    mandate = mandates.active_mandate(contract)
    if mandate is None:
        return redirect("contracts:payment", number=contract.number)
    if request.method == "POST":
        try:
            revoked = mandates.revoke_mandate(contract=contract, by=request.user, now=timezone.now())
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Addebito diretto revocato: dalla prossima bolletta paghi con: %(method)s.")
                % {"method": revoked.get_previous_payment_method_display()},
            )
        return redirect("contracts:payment", number=contract.number)
    return render(request, "contracts/mandate_revoke.html", {"contract": contract, "mandate": mandate})


@login_required
@require_POST
def bill_delivery(request, number):
    contract = _own_contract(request, number)
    form = BillDeliveryForm(request.POST)
    if not form.is_valid():
        return _payment_page(request, contract, delivery_form=form)
    mandates.choose_bill_delivery(contract=contract, paper_bills=form.paper_bills, now=timezone.now())
    if form.paper_bills:
        messages.success(request, _("Dalla prossima bolletta la riceverai anche per posta."))
    else:
        messages.success(
            request, _("Dalla prossima bolletta la riceverai solo per e-mail e nell'Area Clienti.")
        )
    return redirect("contracts:payment", number=contract.number)


@login_required
@require_http_methods(["GET", "POST"])
def contact_details(request):
    customer = selectors.customer_of(request.user)
    if customer is None:
        raise Http404("no customer record for this account")
    form = ContactDetailsForm(request.POST if request.method == "POST" else None, instance=customer)
    if form.is_bound and form.is_valid():
        try:
            services.update_customer(
                customer=customer,
                # The fields the form has for this customer (a business has the e-invoice ones too).
                changes={name: form.cleaned_data[name] for name in form.fields},
                now=timezone.now(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("I tuoi recapiti sono aggiornati."))
            return redirect("profile")
    return render(request, "contracts/contact_details.html", {"form": form, "customer": customer})
