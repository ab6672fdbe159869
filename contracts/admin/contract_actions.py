"""The contract list's actions: each collects a form, calls one service per contract and reports with
`message_user`; what it changed is recorded in admin's history (who and when)."""

from operator import attrgetter

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contracts import services
from contracts.admin.forms import (
    ConditionChangeForm,
    CoolingOffForm,
    CustomerWithdrawalForm,
    SupplierWithdrawalForm,
)
from contracts.admin.helpers import apply_each, ask
from contracts.models import Contract
from portal.admin_display import LISTED_ON_CONFIRMATION
from portal.lib import dates
from portal.lib.formatting import day as _day

# What each contract is called in the messages.
NUMBER = attrgetter("number")


class ContractActions:
    """The actions of ContractAdmin (mixed into it)."""

    @admin.action(description=_("Registra recesso del cliente"), permissions=["change"])
    def register_customer_withdrawal(self, request, queryset):
        def withdraw(contract, data):
            return services.request_withdrawal(
                contract=contract,
                kind=data["kind"],
                received_on=data["received_on"],
                service=data["service"],
                by=request.user,
                channel="staff",
            )

        def report(withdrawal, data):
            return _(
                "Recesso registrato (%(kind)s%(service)s), ricevuto il %(received)s: efficace dal "
                "%(effective)s, costo di recesso anticipato %(charge)s €."
            ) % {
                "kind": withdrawal.get_kind_display(),
                "service": f", {withdrawal.service}" if withdrawal.service else "",
                "received": _day(withdrawal.received_on),
                "effective": _day(withdrawal.effective_on),
                "charge": number_format(withdrawal.early_termination_charge, 2, force_grouping=True),
            }

        return self._for_each_contract(
            request,
            queryset,
            CustomerWithdrawalForm,
            withdraw,
            report,
            initial={"received_on": dates.today()},
            with_contracts=True,
            page=dict(
                action="register_customer_withdrawal",
                title=_("Registra il recesso del cliente"),
                intro=_(
                    "Per i recessi ricevuti per lettera, PEC, telefono o in negozio. Il cliente riceve la "
                    "ricevuta con la data di efficacia e gli eventuali costi."
                ),
                submit=_("Registra il recesso"),
            ),
        )

    @admin.action(description=_("Recesso del fornitore"), permissions=["change"])
    def register_supplier_withdrawal(self, request, queryset):
        return self._for_each_contract(
            request,
            queryset,
            SupplierWithdrawalForm,
            lambda contract, data: services.withdraw_as_supplier(
                contract=contract, sent_on=data["sent_on"], by=request.user
            ),
            lambda withdrawal, data: (
                _("Recesso del fornitore inviato il %(sent)s: il contratto cessa il %(effective)s.")
                % {"sent": _day(data["sent_on"]), "effective": _day(withdrawal.effective_on)}
            ),
            initial={"sent_on": dates.today()},
            page=dict(
                action="register_supplier_withdrawal",
                title=_("Recesso del fornitore (art. 3.6)"),
                intro=_(
                    "Optima recede dai contratti selezionati: ogni cliente riceve la comunicazione con la data "
                    "di cessazione. Solo i contratti attivi."
                ),
                submit=_("Invia il recesso"),
            ),
        )

    @admin.action(description=_("Registra ripensamento del cliente"), permissions=["change"])
    def register_cooling_off(self, request, queryset):
        return self._for_each_contract(
            request,
            queryset,
            CoolingOffForm,
            lambda contract, data: services.cancel_for_cooling_off(
                contract=contract, requested_on=data["sent_on"], by=request.user, channel="staff"
            ),
            lambda withdrawal, data: (
                _("Ripensamento inviato il %(sent)s: contratto annullato senza costi.")
                % {"sent": _day(data["sent_on"])}
            ),
            initial={"sent_on": dates.today()},
            page=dict(
                action="register_cooling_off",
                title=_("Registra il ripensamento del cliente (Codice del Consumo, art. 52)"),
                intro=_(
                    "Per i ripensamenti inviati per lettera, PEC o e-mail, o dichiarati per telefono. Il "
                    "contratto è annullato senza costi e il cliente riceve la ricevuta."
                ),
                submit=_("Annulla i contratti"),
            ),
        )

    @admin.action(description=_("Annuncia variazione delle condizioni"), permissions=["change"])
    def announce_condition_change(self, request, queryset):
        data, page = ask(
            self,
            request,
            ConditionChangeForm,
            list(queryset.select_related("customer")[: LISTED_ON_CONFIRMATION + 1]),
            initial={"sent_on": dates.today()},
            page=dict(
                count=queryset.count(),
                action="announce_condition_change",
                title=_("Annuncia una variazione unilaterale delle condizioni (art. 9.3)"),
                intro=_(
                    "Ogni contratto attivo selezionato riceve la comunicazione con la lettera in PDF. La data "
                    "di entrata in vigore deve rispettare il preavviso di 3 mesi."
                ),
                submit=_("Invia le comunicazioni"),
            ),
        )
        if page is not None:
            return page
        active = queryset.filter(status=Contract.Status.ACTIVE)
        contract_ids = list(active.order_by("pk").values_list("pk", flat=True))
        skipped = queryset.count() - len(contract_ids)
        if not contract_ids:
            self.message_user(request, _("Nessun contratto attivo tra quelli selezionati."), messages.ERROR)
            return None
        try:
            with transaction.atomic():
                change = services.start_condition_change(
                    title=data["title"],
                    description=data["description"],
                    effective_on=data["effective_on"],
                    raises_prices=data["raises_prices"],
                    new_prices=ConditionChangeForm.new_prices(data),
                    sent_on=data["sent_on"],
                    contracts=active.order_by("pk"),
                    by=request.user,
                )
                message = _(
                    "Annunciata la variazione «%(title)s», in vigore dal %(effective)s (invio del %(sent)s)."
                ) % {
                    "title": change.title,
                    "effective": _day(change.effective_on),
                    "sent": _day(change.sent_on),
                }
                self.log_addition(request, change, message)
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=Contract.objects.filter(pk__in=contract_ids).only("pk", "number", "offer_name"),
                    action_flag=CHANGE,
                    change_message=message,
                )
        except ValidationError as error:  # e.g. an offer without prices to compare the new ones with
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        self.message_user(
            request,
            ngettext(
                "Invio della comunicazione avviato per %(count)d contratto.",
                "Invio delle comunicazioni avviato per %(count)d contratti.",
                len(contract_ids),
            )
            % {"count": len(contract_ids)},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d contratto non attivo escluso.",
                    "%(count)d contratti non attivi esclusi.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
        return HttpResponseRedirect(reverse("admin:contracts_conditionchange_change", args=[change.pk]))

    def _for_each_contract(
        self, request, queryset, form_class, act, report, *, page, with_contracts=False, **form
    ):
        """Ask for `form_class`, then `act(contract, data)` for each selected contract (a partial
        withdrawal, which names a service, for that service's contract only); `report(result, data)` says
        what each did."""
        contracts = list(queryset.select_related("customer"))
        if with_contracts:
            form["contracts"] = contracts
        data, asking = ask(self, request, form_class, contracts, page=page, **form)
        if asking is not None:
            return asking
        if data.get("service") is not None:
            contracts = [data["service"].contract]
        apply_each(
            self,
            request,
            contracts,
            lambda contract: act(contract, data),
            lambda result: report(result, data),
            label=NUMBER,
        )
        return None
