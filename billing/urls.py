from django.urls import path

from billing import views
from billing.online import views as online_views

app_name = "billing"

urlpatterns = [
    path("", views.invoice_list, name="invoices"),
    # Before "<pk>/": fixed words are never taken for an id.
    path("zip/", views.invoices_zip, name="invoices_zip"),
    path("pagamenti/", views.payment_list, name="payments"),
    path("paga/", views.pay_online, name="pay_online"),
    path("paga/notifiche/<slug:variant>/", online_views.webhook, name="online_payment_webhook"),
    path("paga/<uuid:token>/", views.online_payment_outcome, name="online_payment_outcome"),
    path("paga/<uuid:token>/carta-di-prova/", online_views.test_gateway, name="online_payment_test_gateway"),
    path("<int:pk>/", views.invoice_detail, name="invoice"),
    path("<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("<int:pk>/xml/", views.invoice_xml, name="invoice_xml"),
    path("<int:pk>/rateizzazione/", views.instalment_request, name="instalment_request"),
]
