"""Demo contracts for `seed_demo`: every lifecycle case of the contracts issue, visible on a fresh start.

Dates are anchored to the day the demo is seeded, so that the cases stay true whenever it runs: a renewal
notice due now, a cooling-off still open, a price-increase window still open, a withdrawal in progress.
Contracts are created once (by number) and brought to their state through the real services.
"""

from datetime import date
from decimal import Decimal

from django.utils import timezone

from accounts.models import Customer
from contracts import deadlines, mandates, services
from contracts.models import Contract, Device, MeterReading, Service
from portal.lib.dates import add_days, add_months, first_of_month

BUSINESS_CUSTOMER = {
    # A customer with contracts but no portal account yet: registers with partita IVA + customer code.
    "code": "C000100003",
    "email": "amministrazione@pizzeriadagennaro.example",
    "kind": Customer.Kind.BUSINESS,
    "company_name": "Pizzeria Da Gennaro S.r.l.",
    "partita_iva": "07643520567",
    "codice_fiscale": "07643520567",
    "pec": "pizzeriadagennaro@pec.example",
    "sdi_code": "M5UXCR1",  # its e-invoices go to its accounting software's SdI channel
    "phone": "+39 081 555 1234",
    "billing_street": "Via dei Tribunali 94",
    "billing_postcode": "80138",
    "billing_city": "Napoli",
    "billing_province": "NA",
    "language": "it",
}


def seed_contracts(*, mario: Customer, giulia: Customer, today: date) -> list[str]:
    """Create the demo contracts; returns one line per contract describing what it shows."""
    business, _ = Customer.objects.get_or_create(code=BUSINESS_CUSTOMER["code"], defaults=BUSINESS_CUSTOMER)
    lines = []

    # Mario, energy + add-ons, expiring in about 5 months: its renewal notice goes out in about a month
    # (time-travel there with `run_deadlines --now`).
    expiry = first_of_month(add_months(today, 5))
    energy = _contract(
        mario,
        number="OPT-2025-0001001",
        offer_name="Optima Super Casa Smart con Teleconsulto Medico",
        sales_channel=Contract.SalesChannel.PHONE,
        accepted_on=add_months(expiry, -13),
        discounts_enjoyed=Decimal("36.00"),
        security_deposit=Decimal("50.00"),
        activated_on=add_months(expiry, -12),
        service_specs=[
            dict(
                kind=Service.Kind.ELECTRICITY,
                pod="IT001E04512377",
                power_kw=Decimal("3.0"),
                **_address("Via Toledo 256", "80134", "Napoli", "NA"),
            ),
            dict(
                kind=Service.Kind.GAS,
                pdr="00881234567890",
                meter_class="G4",
                **_address("Via Toledo 256", "80134", "Napoli", "NA"),
            ),
            dict(kind=Service.Kind.TELECONSULTO),
            dict(kind=Service.Kind.ASSISTENZA_H24, interventions_used=1),
        ],
    )
    if energy:
        _readings(
            energy.services.get(kind=Service.Kind.ELECTRICITY),
            start=energy.period_start,
            today=today,
            per_day=7.5,
            first=10230,
        )
        _readings(
            energy.services.get(kind=Service.Kind.GAS),
            start=energy.period_start,
            today=today,
            per_day=2.1,
            first=4312,
        )
    send_by = deadlines.renewal_notice_send_by(expiry)
    lines.append(
        f"OPT-2025-0001001  Mario Rossi     luce+gas+add-on, comunicazione di rinnovo il {send_by:%d/%m/%Y}"
    )

    # Mario, fibre + mobile, with a modem on loan, in its second period.
    comms = _contract(
        mario,
        number="OPT-2024-0000420",
        offer_name="Optima Internet Casa FTTH + Mobile",
        sales_channel=Contract.SalesChannel.SHOP,
        accepted_on=add_months(today, -17),
        activated_on=first_of_month(add_months(today, -16)),
        service_specs=[
            dict(
                kind=Service.Kind.FIBRE,
                fibre_technology="FTTH",
                line_number="0815551234",
                **_address("Via Toledo 256", "80134", "Napoli", "NA"),
            ),
            dict(kind=Service.Kind.MOBILE, sim_number="3331234567", iccid="8939010012345678901"),
        ],
        devices=["ZXHN-H388X-0042871"],
    )
    if comms:
        services.renew_or_end_at_expiry(comms, today=comms.expires_on)
        # Its bills also go by post: each one issued lands in admin's "Lettere da spedire".
        mandates.choose_bill_delivery(contract=comms, paper_bills=True, now=timezone.now())
    lines.append(
        "OPT-2024-0000420  Mario Rossi     fibra+mobile, modem in comodato, rinnovato una volta, bolletta cartacea"
    )

    # Giulia, concluded on the web a few days ago: cooling-off still open, supply being activated.
    cooling = _contract(
        giulia,
        number="OPT-2026-0007731",
        offer_name="Optima Luce Web",
        sales_channel=Contract.SalesChannel.WEB,
        accepted_on=add_days(today, -5),
        activated_on=None,
        service_specs=[
            dict(
                kind=Service.Kind.ELECTRICITY,
                pod="IT012E00987654",
                power_kw=Decimal("4.5"),
                **_address("Corso Buenos Aires 45", "20124", "Milano", "MI"),
            )
        ],
    )
    lines.append(
        f"OPT-2026-0007731  Giulia Bianchi  ripensamento possibile fino al {deadlines.cooling_off_last_day(cooling.accepted_on):%d/%m/%Y}"
    )

    # Giulia, gas: a price increase announced 10 days ago, 60-day withdrawal window open.
    gas = _contract(
        giulia,
        number="OPT-2025-0003310",
        offer_name="Optima Gas Casa",
        sales_channel=Contract.SalesChannel.AGENCY,
        accepted_on=add_months(today, -8),
        activated_on=first_of_month(add_months(today, -7)),
        service_specs=[
            dict(
                kind=Service.Kind.GAS,
                pdr="03081122334455",
                meter_class="G4",
                **_address("Corso Buenos Aires 45", "20124", "Milano", "MI"),
            )
        ],
    )
    if gas:
        sent_on = add_days(today, -10)
        change = services.start_condition_change(
            title="Aggiornamento del corrispettivo di commercializzazione",
            description="La quota fissa di commercializzazione passa da 8,00 a 9,50 € al mese (IVA esclusa).",
            effective_on=deadlines.unilateral_change_earliest_effective(sent_on),
            # Above the offer's tariff: the comparison gives the notice its 60-day withdrawal right.
            new_prices={"gas_monthly_fee": Decimal("9.50")},
            sent_on=sent_on,
            contracts=[gas],
        )
        services.send_condition_change_notice(change.notices.get(), today=sent_on)
    lines.append(
        "OPT-2025-0003310  Giulia Bianchi  aumento di prezzo annunciato: recesso possibile per 60 giorni"
    )

    # The business customer: electricity, withdrawal for a switch of supplier in progress.
    shop = _contract(
        business,
        number="OPT-2025-0002002",
        offer_name="Optima Business Luce",
        sales_channel=Contract.SalesChannel.AGENCY,
        accepted_on=add_months(today, -10),
        activated_on=first_of_month(add_months(today, -9)),
        service_specs=[
            dict(
                kind=Service.Kind.ELECTRICITY,
                pod="IT001E07700112",
                power_kw=Decimal("15.0"),
                domestic_resident=False,
                **_address("Via dei Tribunali 94", "80138", "Napoli", "NA"),
            )
        ],
    )
    if shop:
        services.request_withdrawal(
            contract=shop, kind="switch", received_on=add_days(today, -3), channel="staff"
        )
    lines.append(
        "OPT-2025-0002002  Pizzeria (senza account: registrazione con P.IVA 07643520567 e codice C000100003) in cessazione per cambio fornitore"
    )
    return lines


def _address(street, postcode, city, province):
    return {
        "supply_street": street,
        "supply_postcode": postcode,
        "supply_city": city,
        "supply_province": province,
    }


def _contract(
    customer, *, number, service_specs: list[dict], activated_on, devices=(), **fields
) -> Contract | None:
    """Create the contract the first time (returns it), or None when it already exists (idempotent seed)."""
    if Contract.objects.filter(number=number).exists():
        return Contract.objects.get(number=number) if activated_on is None else None
    contract = Contract.objects.create(
        customer=customer,
        number=number,
        proposed_on=add_days(fields["accepted_on"], -2),
        payment_method=Contract.PaymentMethod.SDD,
        iban="IT60X0542811101000000123456",
        **fields,
    )
    for service_fields in service_specs:
        service = Service.objects.create(contract=contract, **service_fields)
        service.full_clean()
        if activated_on is not None:
            services.activate_service(service=service, activated_on=activated_on)
    for serial in devices:
        Device.objects.create(contract=contract, serial_number=serial, description="Modem Wi-Fi")
    contract.refresh_from_db()
    return contract


def _readings(service, *, start, today, per_day, first):
    """Monthly distributor readings from the start of supply, with a winter bump for realism."""
    value, day = first, start
    while day <= today:
        MeterReading.objects.create(
            service=service, read_on=day, value=int(value), source=MeterReading.Source.DISTRIBUTOR
        )
        next_day = add_months(day, 1)
        winter = 1.6 if next_day.month in (12, 1, 2) else 1.0
        value += per_day * winter * (next_day - day).days
        day = next_day
