"""Billing jobs for billing officers and supervisors: the month's invoice run (period, preview, confirm, then
a job on the `billing` queue with a progress page and its final report), a bank or postal statement uploaded
with a result for every line, and the payments that paid no bill, matched to one by hand.

Thin pages: the rules are billing.generation's (what may be billed, what the preview counts),
billing.payments_import's (all or nothing) and billing.services' (allocation); a refusal lands on the form.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from billing import generation, jobs, payments_import, services
from billing.admin.common import AddedThroughServiceMixin, RecordViews, add_errors, euro, status_badge
from billing.admin.forms import InvoiceRunForm, PaymentMatchForm, StatementUploadForm
from billing.models import BillingJob
from portal.lib import dates
from portal.lib.dates import add_months, first_of_month
from portal.lib.formatting import day as _day

_STATUS_COLOURS = {
    BillingJob.Status.QUEUED: "#6c757d",
    BillingJob.Status.RUNNING: "#0d6efd",
    BillingJob.Status.DONE: "#198754",
    BillingJob.Status.FAILED: "#dc3545",
}

LINE_OUTCOMES = {
    payments_import.LineResult.IMPORTED: _("Importato"),
    payments_import.LineResult.DUPLICATE: _("Già importato"),
    payments_import.LineResult.ERROR: _("Errore"),
}


@admin.register(BillingJob)
class BillingJobAdmin(AddedThroughServiceMixin, RecordViews, admin.ModelAdmin):
    list_display = [
        "created",
        "month",
        "issued",
        "status_label",
        "progress",
        "invoices",
        "errors",
        "requested_by",
    ]
    list_select_related = ["requested_by"]

    # -- the list ---------------------------------------------------------------------------------------------

    @admin.display(description=_("avviato il"), ordering="created_at")
    def created(self, job):
        return timezone.localtime(job.created_at).strftime("%d/%m/%Y %H:%M")

    @admin.display(description=_("mese"), ordering="period")
    def month(self, job):
        return f"{job.period:%m/%Y}" + (f" · {_('solo chiusure')}" if job.closing_only else "")

    @admin.display(description=_("emesse il"), ordering="issued_on")
    def issued(self, job):
        return _day(job.issued_on)

    @admin.display(description=_("stato"), ordering="status")
    def status_label(self, job):
        return status_badge(_STATUS_COLOURS[job.status], job.get_status_display())

    @admin.display(description=_("avanzamento"))
    def progress(self, job):
        return f"{job.contracts_done}/{job.contracts_total}" if job.contracts_total else "—"

    @admin.display(description=_("bollette emesse"))
    def invoices(self, job):
        return job.report.get("created", "—")

    @admin.display(description=_("contratti con errori"))
    def errors(self, job):
        return len(job.report["errors"]) if "errors" in job.report else "—"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("estratto-conto/", view(self.statement_view), name="billing_billingjob_statement"),
            path("da-abbinare/", view(self.unmatched_view), name="billing_billingjob_unmatched"),
            path("da-abbinare/<int:payment_id>/", view(self.match_view), name="billing_billingjob_match"),
            path(
                "<int:pk>/riaccoda/", view(require_POST(self.requeue_view)), name="billing_billingjob_requeue"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_import": request.user.has_perm("billing.add_payment"), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def _page(self, request, template, title, **context):
        return TemplateResponse(
            request,
            f"admin/billing/billingjob/{template}",
            {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context},
        )

    # -- the invoice run: period, preview, confirm ---------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        today = dates.today()
        form = InvoiceRunForm(
            request.POST or None,
            initial={"period": add_months(first_of_month(today), -1), "issued_on": today},
        )
        preview = previewed = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            month = generation.parse_month(data["period"])
            # Confirmed only as previewed: a period or date changed after the preview is previewed again.
            previewed = f"{month:%Y-%m}|{data['issued_on']:%Y-%m-%d}|{int(data['closing_only'])}"
            try:
                if "confirm" in request.POST and request.POST.get("previewed") == previewed:
                    job = jobs.start_invoice_run(
                        month=month,
                        issued_on=data["issued_on"],
                        today=today,
                        closing_only=data["closing_only"],
                        by=request.user,
                    )
                    self.log_addition(request, job, str(job))
                    return HttpResponseRedirect(reverse("admin:billing_billingjob_change", args=[job.pk]))
                generation.check_run(
                    month=month, issued_on=data["issued_on"], today=today, closing_only=data["closing_only"]
                )
                preview = generation.preview_invoices(
                    period=month, issued_on=data["issued_on"], closing_only=data["closing_only"]
                )
            except ValidationError as error:
                add_errors(form, error)
        return self._page(
            request,
            "run.html",
            _("Emetti le bollette del mese"),
            form=form,
            preview=preview,
            previewed=previewed if preview else "",
            total=euro(preview.total) if preview else "",
        )

    # -- the job: progress, then its report ------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(BillingJob.objects.select_related("requested_by"), pk=object_id)
        report = job.report
        return self._page(
            request,
            "job.html",
            str(job),
            job=job,
            stuck=jobs.is_stuck(job, now=timezone.now()),
            total=euro(report["total"]) if "total" in report else "",
            first_invoice=report["invoices"][0] if report.get("invoices") else "",
            last_invoice=report["invoices"][-1] if report.get("invoices") else "",
            can_requeue=self.has_add_permission(request),
        )

    def requeue_view(self, request, pk):
        if not self.has_add_permission(request):
            raise PermissionDenied
        job = get_object_or_404(BillingJob, pk=pk)
        if jobs.is_stuck(job, now=timezone.now()):
            jobs.queue_again(job)
            self.log_change(request, job, _("Rimesso in coda"))
            self.message_user(request, _("Il lavoro è di nuovo in coda."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:billing_billingjob_change", args=[job.pk]))

    # -- a bank or postal statement --------------------------------------------------------------------------

    def _require_payments(self, request):
        if not request.user.has_perm("billing.add_payment"):
            raise PermissionDenied

    def statement_view(self, request):
        self._require_payments(request)
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["statement"]
            try:
                result = payments_import.import_upload(
                    upload.read(),
                    name=upload.name,
                    today=dates.today(),
                    partial=form.cleaned_data["partial"],
                    by=request.user,
                )
            except payments_import.StatementError as error:
                form.add_error("statement", str(error))
            else:
                self._report_statement(request, upload.name, result)
        return self._page(
            request,
            "statement.html",
            _("Importa un estratto conto"),
            form=form,
            result=result,
            lines=[
                (line, LINE_OUTCOMES[line.outcome], euro(line.amount) if line.amount is not None else "")
                for line in (result.lines if result else [])
            ],
            imported_total=euro(result.imported_total) if result else "",
        )

    def _report_statement(self, request, name, result):
        if result.refused:
            self.message_user(
                request,
                _(
                    "Nessun pagamento registrato: %(errors)d righe con errori. Correggere il file e importarlo di "
                    "nuovo, oppure importare solo le righe corrette."
                )
                % {"errors": len(result.errors)},
                messages.ERROR,
            )
            return
        for payment in result.imported:
            self.log_addition(request, payment, _("Importato dall'estratto conto %(name)s") % {"name": name})
        level = messages.WARNING if result.errors else messages.SUCCESS
        self.message_user(
            request,
            _(
                "%(count)d pagamenti registrati (%(total)s), %(duplicates)d già importati, %(errors)d righe escluse."
            )
            % {
                "count": len(result.imported),
                "total": euro(result.imported_total),
                "duplicates": len(result.duplicates),
                "errors": len(result.errors),
            },
            level,
        )

    # -- payments that paid no bill --------------------------------------------------------------------------

    def unmatched_view(self, request):
        self._require_payments(request)
        return self._page(
            request,
            "unmatched.html",
            _("Pagamenti da abbinare"),
            payments=[
                (payment, euro(payment.amount), euro(payment.unmatched))
                for payment in payments_import.unmatched_payments()
            ],
        )

    def match_view(self, request, payment_id):
        self._require_payments(request)
        payment = get_object_or_404(payments_import.unmatched_payments(), pk=payment_id)
        form = PaymentMatchForm(
            request.POST or None, invoices=payments_import.open_invoices_of(payment.customer)
        )
        allocation = self._submit(
            request, form, lambda data: services.match_payment(payment=payment, invoice=data["invoice"])
        )
        if allocation is not None:
            message = _("%(amount)s del pagamento del %(day)s abbinati alla bolletta %(number)s.") % {
                "amount": euro(allocation.amount),
                "day": _day(payment.received_on),
                "number": allocation.invoice.number,
            }
            self.log_change(request, payment, message)
            self.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:billing_billingjob_unmatched"))
        return self._page(
            request,
            "match.html",
            _("Abbina un pagamento"),
            payment=payment,
            amount=euro(payment.amount),
            unmatched=euro(payment.unmatched),
            form=form,
        )
