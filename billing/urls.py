from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.invoice_list, name="invoices"),
    # Before "<pk>/": fixed words are never taken for an id.
    path("zip/", views.invoices_zip, name="invoices_zip"),
    path("pagamenti/", views.payment_list, name="payments"),
    path("<int:pk>/", views.invoice_detail, name="invoice"),
    path("<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("<int:pk>/xml/", views.invoice_xml, name="invoice_xml"),
]
