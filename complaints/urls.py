from django.urls import path, register_converter

from complaints import views


class ComplaintCodeConverter:
    """A case code, R-2026-000123: fixed words like "nuovo" are never taken for one."""

    regex = r"R-[0-9]{4}-[0-9]{6}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ComplaintCodeConverter, "complaint_code")

app_name = "complaints"

urlpatterns = [
    path("reclami/", views.complaint_list, name="list"),
    path("reclami/nuovo/", views.complaint_new, name="new"),
    path("reclami/senza-account/", views.public_new, name="public_new"),
    path("reclami/senza-account/inviato/", views.public_done, name="public_done"),
    path("reclami/segui/", views.track_request, name="track_request"),
    path("reclami/segui/<str:token>/", views.track, name="track"),
    path("reclami/modulo-reclamo.pdf", views.form_pdf, name="form_pdf"),
    path("reclami/<complaint_code:code>/", views.complaint_detail, name="detail"),
    path("reclami/<complaint_code:code>/copia.pdf", views.copy_pdf, name="copy_pdf"),
    path("reclami/<complaint_code:code>/risposta.pdf", views.reply_pdf, name="reply_pdf"),
    path("reclami/<complaint_code:code>/allegati/<int:pk>/", views.attachment, name="attachment"),
    path("reclami/<complaint_code:code>/fascicolo.zip", views.dossier, name="dossier"),
    path("reclami/<complaint_code:code>/resoconto/", views.status_report, name="status_report"),
    path("reclami/<complaint_code:code>/non-soddisfacente/", views.unsatisfactory, name="unsatisfactory"),
    path("assistenza-e-reclami/", views.help_page, name="help"),
]
