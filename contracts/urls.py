from django.urls import path, register_converter

from contracts import views


class ContractNumberConverter:
    """A contract number as staff write it (letters, digits, dashes, dots, underscores; at most 20). Anything
    else is not a contract of anyone's: no match, 404 (and no NUL byte ever reaches the database)."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ContractNumberConverter, "contract_number")

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list, name="list"),
    # Before "<number>/": a fixed word is never taken for a contract number.
    path("recapiti/", views.contact_details, name="contact_details"),
    path("<contract_number:number>/", views.contract_detail, name="detail"),
    path("<contract_number:number>/forniture/<int:service_id>/", views.supply, name="supply"),
    path("<contract_number:number>/recesso/", views.withdraw, name="withdraw"),
    path("<contract_number:number>/recesso/conferma/", views.withdraw_confirm, name="withdraw_confirm"),
    path("<contract_number:number>/recesso/<int:pk>/", views.withdrawal_done, name="withdrawal_done"),
    path("<contract_number:number>/ripensamento/", views.cooling_off, name="cooling_off"),
    path("<contract_number:number>/pagamento/", views.payment, name="payment"),
    path("<contract_number:number>/pagamento/domiciliazione/", views.sign_mandate, name="sign_mandate"),
    path("<contract_number:number>/pagamento/revoca/", views.revoke_mandate, name="revoke_mandate"),
    path("<contract_number:number>/pagamento/bollette/", views.bill_delivery, name="bill_delivery"),
]
