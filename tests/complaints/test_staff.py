"""Staff work complaints in admin: register, assign, ask, reclassify, reply (preview, send), close."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from complaints import reply_templates, services
from complaints.models import Complaint, ComplaintAttachment, ComplaintEvent
from portal import roles
from portal.lib.dates import add_days, rome_date
from portal.notifications.models import Communication
from tests.factories import UserFactory, active_contract
from tests.pdf_utils import pdf_text

pytestmark = pytest.mark.django_db

HEADINGS = ["Il Suo reclamo", "Le nostre verifiche", "Le nostre conclusioni", "I Suoi diritti"]
SECTIONS = {
    "reply_complaint": "Ci ha scritto che la bolletta di settembre è il doppio del solito.",
    "reply_checks": "Abbiamo esaminato la bolletta, le letture del distributore e i consumi degli ultimi 12 mesi.",
    "reply_conclusions": "La lettura del 30 settembre era stimata: rettificheremo la bolletta con una nota di credito.",
    "reply_rights": "Se la risposta non La soddisfa può rivolgersi al Servizio Conciliazione di ARERA.",
}


def today():
    return rome_date(timezone.now())


def url(name, complaint=None):
    args = [complaint.pk] if complaint is not None else []
    return reverse(f"admin:complaints_complaint_{name}", args=args)


def staff(email, role):
    user = UserFactory(email=email, is_staff=True)
    user.groups.add(roles.sync_roles()[role])
    return user


@pytest.fixture
def officer():
    return staff("reclami@optima.example", roles.COMPLAINTS_OFFICER)


@pytest.fixture
def colleague():
    return staff("reclami2@optima.example", roles.COMPLAINTS_OFFICER)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def contract():
    return active_contract()


def file(contract, *, received_on=None, kind=Complaint.Kind.COMPLAINT, topic=Complaint.Topic.BILLING):
    return services.file_complaint(
        kind=kind,
        topic=topic,
        channel=Complaint.Channel.PORTAL,
        description="La bolletta di settembre è il doppio del solito: chiedo una verifica delle letture.",
        sent_on=received_on or add_days(today(), -3),
        customer=contract.customer,
        contract=contract,
        service=contract.services.get(),
    )


@pytest.fixture
def complaint(contract):
    return file(contract)


def change_form_data(response):
    """What the browser would post back from a change page: the form's values and the inlines' management."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for subform in formset.forms:
            for field in subform:
                value = field.value()
                data[field.html_name] = "" if value is None else value
    return data


def save_reply(client, complaint, sections=SECTIONS, button="_continue"):
    page = client.get(url("change", complaint))
    data = {**change_form_data(page), **sections, button: "1"}
    return client.post(url("change", complaint), data)


def logged(complaint, flag=CHANGE):
    return LogEntry.objects.filter(object_id=str(complaint.pk), action_flag=flag)


# ---------------------------------------------------------------------------------------------------------
# Registering complaints received by letter, e-mail, PEC, phone
# ---------------------------------------------------------------------------------------------------------


class TestRegister:
    def phone_data(self, for_contract, **changes):
        contract = for_contract
        return {
            "channel": "phone",
            "received_on": add_days(today(), -1).isoformat(),
            "sent_on": "",
            "customer": contract.customer.pk,
            "contract": contract.pk,
            "service": contract.services.get().pk,
            "invoice": "",
            "sender_name": "",
            "sender_tax_id": "",
            "sender_email": "",
            "supply_reference": "",
            "kind": "complaint",
            "topic": "fatturazione",
            "description": "Telefona per contestare il conguaglio di ottobre.",
            "reply_address": "",
            **changes,
        }

    def test_a_phone_complaint_needs_the_reply_address_confirmed(self, officer_client, contract):
        response = officer_client.post(url("add"), self.phone_data(contract))
        assert response.status_code == 200
        assert "reply_address_confirmed" in response.context["adminform"].form.errors
        assert not Complaint.objects.exists()

    def test_a_phone_complaint_is_filed_through_the_service_and_counts_from_the_call(
        self, officer_client, officer, contract, django_capture_on_commit_callbacks
    ):
        received = add_days(today(), -1)
        with django_capture_on_commit_callbacks(execute=True):
            response = officer_client.post(
                url("add"), self.phone_data(contract, reply_address_confirmed="on")
            )
        complaint = Complaint.objects.get()
        assert response.status_code == 302 and response["Location"] == url("change", complaint)
        assert complaint.code.startswith(f"R-{received.year}-")
        assert (complaint.channel, complaint.sent_on, complaint.received_on) == ("phone", received, received)
        assert complaint.answer_due_on == add_days(received, 30)
        assert complaint.sender_name == contract.customer.display_name
        assert (
            complaint.reply_address == contract.customer.reply_address and complaint.reply_address_confirmed
        )
        [filed] = complaint.events.filter(kind=ComplaintEvent.Kind.FILED)
        assert filed.actor == officer
        assert logged(complaint, ADDITION).get().user == officer
        # The customer gets the acknowledgement with the case code, as for an online complaint.
        assert Communication.objects.filter(template_key="complaint_ack", customer=contract.customer).exists()

    def test_a_letter_counts_from_its_receipt_and_keeps_its_sending_date(self, officer_client, contract):
        sent, received = add_days(today(), -9), add_days(today(), -4)
        data = self.phone_data(
            contract, channel="letter", sent_on=sent.isoformat(), received_on=received.isoformat()
        )
        assert officer_client.post(url("add"), data).status_code == 302
        complaint = Complaint.objects.get()
        assert (complaint.sent_on, complaint.received_on) == (sent, received)
        assert complaint.answer_due_on == add_days(received, 30)
        assert complaint.conciliation_due_on == add_days(sent, 40)

    def test_a_letter_needs_its_sending_date_and_an_email_is_sent_when_received(
        self, officer_client, contract
    ):
        letter = self.phone_data(contract, channel="letter")
        assert "sent_on" in officer_client.post(url("add"), letter).context["adminform"].form.errors
        email = self.phone_data(
            contract,
            channel="email",
            sent_on=add_days(today(), -5).isoformat(),
            received_on=add_days(today(), -1).isoformat(),
        )
        assert "sent_on" in officer_client.post(url("add"), email).context["adminform"].form.errors
        assert not Complaint.objects.exists()

    def test_a_sender_who_is_not_a_customer_needs_a_name_and_a_reply_address(self, officer_client):
        data = {
            "channel": "pec",
            "received_on": today().isoformat(),
            "kind": "complaint",
            "topic": "contratti",
            "description": "Non ho mai firmato questo contratto.",
        }
        errors = officer_client.post(url("add"), data).context["adminform"].form.errors
        assert {"sender_name", "reply_address"} <= set(errors)
        data |= {"sender_name": "Carla Esposito", "reply_address": "Via Chiaia 10, 80121 Napoli (NA)"}
        assert officer_client.post(url("add"), data).status_code == 302
        # No supply identified: handled as an information request (REGULATION.md).
        assert Complaint.objects.get().kind == Complaint.Kind.INFORMATION_REQUEST

    def test_the_customer_lookup_answers_a_complaints_officer(self, officer_client, contract):
        response = officer_client.get(
            reverse("admin:autocomplete"),
            {"app_label": "complaints", "model_name": "complaint", "field_name": "customer", "term": "Rossi"},
        )
        assert response.status_code == 200
        assert str(contract.customer.pk) in {result["id"] for result in response.json()["results"]}

    def test_a_contract_of_another_customer_is_refused(self, officer_client, contract):
        other = active_contract()
        data = self.phone_data(contract, contract=other.pk, service="", reply_address_confirmed="on")
        assert "contract" in officer_client.post(url("add"), data).context["adminform"].form.errors

    @pytest.mark.parametrize(
        "garbage",
        [
            {"channel": "portal"},
            {"received_on": "31/02/2026"},
            {"received_on": "2999-01-01"},
            {"customer": "999999"},
            {"kind": "nonsense", "topic": ""},
            {"description": ""},
        ],
    )
    def test_bad_input_is_a_form_error_never_a_500(self, officer_client, contract, garbage):
        data = self.phone_data(contract, reply_address_confirmed="on") | garbage
        response = officer_client.post(url("add"), data)
        assert response.status_code == 200 and response.context["adminform"].form.errors
        assert not Complaint.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------------------------


class TestList:
    def test_twenty_cases_in_a_bounded_number_of_queries(self, officer_client, django_assert_max_num_queries):
        cases = [file(active_contract(), received_on=add_days(today(), -n)) for n in range(20)]
        with django_assert_max_num_queries(10):
            response = officer_client.get(url("changelist"), {"assegnato": "tutti"})
        assert response.status_code == 200
        content = response.content.decode()
        assert all(case.code in content for case in cases)

    def test_days_left_are_coloured_while_unanswered_and_the_answer_date_shows_after(
        self, officer_client, contract
    ):
        soon = file(contract, received_on=add_days(today(), -27))  # 3 days left: amber
        late = file(contract, received_on=add_days(today(), -32))  # overdue by 2 days
        answered = file(contract, received_on=add_days(today(), -10))
        answered.__dict__.update(SECTIONS)
        answered.save(update_fields=list(SECTIONS))
        services.send_reply(complaint=answered, answered_on=today(), by=None)
        content = officer_client.get(url("changelist"), {"stato": "tutti"}).content.decode()
        assert "#8a5300" in content and "3 giorni" in content
        assert "#b42318" in content and "scaduto da 2 giorni" in content
        assert f"risposto il {today():%d/%m/%Y}" in content
        assert soon.code in content and late.code in content

    def test_filters_overdue_and_due_within_5_days(self, officer_client, contract):
        overdue = file(contract, received_on=add_days(today(), -31))
        soon = file(contract, received_on=add_days(today(), -26))
        later = file(contract, received_on=add_days(today(), -2))

        def codes(query):
            return {c.code for c in officer_client.get(url("changelist") + query).context["cl"].result_list}

        assert codes("?termine=scaduto") == {overdue.code}
        assert codes("?termine=entro-5-giorni") == {soon.code}
        assert codes("?assegnato=tutti") == {overdue.code, soon.code, later.code}
        assert codes("?assegnato=nessuno") == {overdue.code, soon.code, later.code}
        assert codes("?assegnato=me") == set()
        assert codes("?service__kind__exact=electricity") == {overdue.code, soon.code, later.code}
        assert codes("?service__kind__exact=gas") == set()

    def test_search_by_code_tax_code_and_pod(self, officer_client, contract):
        mine = file(contract)
        other = file(active_contract())

        def codes(term):
            response = officer_client.get(url("changelist"), {"q": term})
            return {c.code for c in response.context["cl"].result_list}

        assert codes(mine.code) == {mine.code}
        assert codes(contract.customer.codice_fiscale.lower()) == {mine.code}
        assert codes(contract.services.get().pod) == {mine.code}
        assert codes(other.customer.code) == {other.code}


# ---------------------------------------------------------------------------------------------------------
# Working a case
# ---------------------------------------------------------------------------------------------------------


class TestWorkingACase:
    def test_assign_to_me_and_to_a_colleague_is_recorded_with_who_and_when(
        self, officer_client, officer, colleague, complaint
    ):
        response = officer_client.post(url("assign_to_me", complaint))
        assert response.status_code == 302
        complaint.refresh_from_db()
        assert (complaint.assignee, complaint.status) == (officer, Complaint.Status.IN_PROGRESS)

        response = officer_client.post(url("assign", complaint), {"assignee": colleague.pk})
        assert response.status_code == 302
        complaint.refresh_from_db()
        assert complaint.assignee == colleague
        assigned = complaint.events.filter(kind=ComplaintEvent.Kind.ASSIGNED)
        assert [(e.actor, e.internal) for e in assigned] == [(officer, True), (officer, True)]
        assert logged(complaint).filter(user=officer).count() == 2

    def test_assign_to_me_refuses_a_get(self, officer_client, complaint):
        assert officer_client.get(url("assign_to_me", complaint)).status_code == 405

    def test_an_internal_note_stays_internal(self, officer_client, officer, complaint):
        officer_client.post(url("note", complaint), {"text": "Chiesto al distributore la lettura reale."})
        [note] = complaint.events.filter(kind=ComplaintEvent.Kind.NOTE)
        assert (note.internal, note.actor, note.text) == (
            True,
            officer,
            "Chiesto al distributore la lettura reale.",
        )

    def test_asking_the_customer_waits_for_them_and_writes_to_them(self, officer_client, complaint):
        response = officer_client.post(
            url("ask_customer", complaint), {"text": "Ci invii una foto del contatore con la data."}
        )
        assert response.status_code == 302
        complaint.refresh_from_db()
        assert complaint.status == Complaint.Status.WAITING_CUSTOMER
        [asked] = complaint.events.filter(kind=ComplaintEvent.Kind.INFORMATION_REQUESTED)
        assert not asked.internal
        assert Communication.objects.filter(template_key="complaint_information_requested").count() == 1

    def test_reclassifying_recomputes_the_answer_by_date_from_the_original_receipt(
        self, officer_client, contract
    ):
        complaint = file(contract, received_on=add_days(today(), -20))
        received = complaint.received_on
        response = officer_client.post(
            url("reclassify", complaint),
            {"kind": "billing_rectification", "reason": "Chiede la rettifica della bolletta di settembre."},
        )
        assert response.status_code == 302
        complaint.refresh_from_db()
        assert complaint.kind == Complaint.Kind.BILLING_RECTIFICATION
        assert complaint.received_on == received
        assert complaint.answer_due_on == add_days(received, 60)
        assert complaint.reminder_due_on == add_days(received, 55)
        [event] = complaint.events.filter(kind=ComplaintEvent.Kind.RECLASSIFIED)
        assert "Richiesta di rettifica di fatturazione" in event.text and "settembre" in event.text

    def test_reclassifying_needs_a_reason_and_a_different_kind(self, officer_client, complaint):
        response = officer_client.post(url("reclassify", complaint), {"kind": "complaint", "reason": ""})
        assert response.status_code == 200
        assert {"kind", "reason"} <= set(response.context["form"].errors)

    def test_attachments_internal_or_visible_and_only_pdf_jpeg_png(self, officer_client, officer, complaint):
        pdf = SimpleUploadedFile("lettura.pdf", b"%PDF-1.4\n%fake\n", content_type="application/pdf")
        response = officer_client.post(url("attach", complaint), {"file": pdf, "internal": "on"})
        assert response.status_code == 302
        attachment = ComplaintAttachment.objects.get()
        assert (attachment.internal, attachment.uploaded_by, attachment.content_type) == (
            True,
            officer,
            "application/pdf",
        )
        download = officer_client.get(
            reverse("admin:complaints_complaint_attachment", args=[complaint.pk, attachment.pk])
        )
        assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")

        fake = SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
        response = officer_client.post(url("attach", complaint), {"file": fake})
        assert response.status_code == 200 and "non è un PDF" in response.content.decode()
        assert ComplaintAttachment.objects.count() == 1

    def test_an_indemnity_exclusion_needs_a_reason(self, officer_client, complaint):
        response = officer_client.post(
            url("exclusion", complaint), {"exclusion": "force_majeure", "reason": ""}
        )
        assert response.status_code == 200
        response = officer_client.post(
            url("exclusion", complaint),
            {"exclusion": "customer_or_third_party", "reason": "Il distributore non ha fornito la lettura."},
        )
        assert response.status_code == 302
        complaint.refresh_from_db()
        assert complaint.indemnity_exclusion == "customer_or_third_party"

    def test_the_change_page_offers_the_reply_drafted_from_the_template(self, officer_client, complaint):
        response = officer_client.get(url("change", complaint))
        assert response.status_code == 200
        form = response.context["adminform"].form
        assert "Per rispondere abbiamo esaminato" in form["reply_checks"].value()
        assert complaint.code in form["reply_complaint"].value()
        assert "Servizio Conciliazione" in form["reply_rights"].value()
        content = response.content.decode()
        assert "Assegna a me" in content and "Invia la risposta" in content

    def test_the_reply_preview_is_a_pdf_with_the_four_sections(self, officer_client, complaint):
        assert save_reply(officer_client, complaint).status_code == 302
        response = officer_client.get(url("reply_preview", complaint))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        text = pdf_text(response.content)
        for heading in HEADINGS:
            assert heading in text
        assert complaint.code in text and "nota di credito" in text
        assert complaint.reply_address.split(",")[0] in text

    def test_save_and_preview_goes_to_the_pdf(self, officer_client, complaint):
        response = save_reply(officer_client, complaint, button="_preview")
        assert response.status_code == 302 and response["Location"] == url("reply_preview", complaint)
        complaint.refresh_from_db()
        assert complaint.reply_checks == SECTIONS["reply_checks"]

    def test_a_reply_with_a_section_still_to_complete_is_not_sent(self, officer_client, complaint):
        save_reply(officer_client, complaint, {**SECTIONS, "reply_conclusions": "[da completare: l'esito]"})
        page = officer_client.get(url("send_reply", complaint))
        assert "Le nostre conclusioni" in page.context["send"]["unfinished"]
        response = officer_client.post(url("send_reply", complaint), {"delay_cause": ""})
        assert response.status_code == 200
        complaint.refresh_from_db()
        assert complaint.answered_on is None

    def test_send_stops_the_clock_then_close(self, officer_client, officer, complaint):
        save_reply(officer_client, complaint)
        response = officer_client.post(url("send_reply", complaint), {"delay_cause": ""})
        assert response.status_code == 302
        complaint.refresh_from_db()
        assert (complaint.status, complaint.answered_on) == (Complaint.Status.ANSWERED, today())
        assert complaint.indemnity_amount is None  # on time
        assert complaint.events.get(kind=ComplaintEvent.Kind.REPLIED).actor == officer
        reply = Communication.objects.get(template_key="complaint_reply")
        text = pdf_text(reply.document.read())
        assert all(heading in text for heading in HEADINGS)

        # Sent: the reply is a record, the page no longer edits it; sending again is refused.
        form = officer_client.get(url("change", complaint)).context["adminform"].form
        assert "reply_conclusions" not in form.fields and "delay_cause" in form.fields
        assert officer_client.post(url("send_reply", complaint), {"delay_cause": ""}).status_code == 200
        assert Communication.objects.filter(template_key="complaint_reply").count() == 1

        assert officer_client.post(url("close", complaint)).status_code == 302
        complaint.refresh_from_db()
        assert complaint.status == Complaint.Status.CLOSED
        assert complaint.events.get(kind=ComplaintEvent.Kind.CLOSED).actor == officer
        messages = list(logged(complaint).values_list("change_message", flat=True))
        assert any("Risposta motivata inviata" in m for m in messages) and "Caso chiuso." in messages

    def test_a_late_reply_shows_the_indemnity_its_band_and_the_credit(self, officer_client, contract):
        complaint = file(contract, received_on=add_days(today(), -40))
        save_reply(officer_client, complaint)
        preview = pdf_text(officer_client.get(url("reply_preview", complaint)).content)
        assert "Indennizzo automatico: 30,00 €" in preview
        response = officer_client.post(url("send_reply", complaint), {"delay_cause": "Picco di reclami."})
        assert response.status_code == 302
        complaint.refresh_from_db()
        assert complaint.indemnity_amount == 30 and complaint.delay_cause == "Picco di reclami."
        letter = pdf_text(Communication.objects.get(template_key="complaint_reply").document.read())
        assert "Indennizzo automatico: 30,00 €" in letter
        assert "Indennizzo automatico per mancato rispetto dei livelli specifici di qualità" in letter
        page = officer_client.get(url("change", complaint)).content.decode()
        # Amounts keep their sign on the same line (a no-break space, as on every screen).
        assert "30,00\N{NO-BREAK SPACE}€" in page and "fascia 1" in page
        assert "Da detrarre ancora: 30,00\N{NO-BREAK SPACE}€" in page

    def test_the_draft_can_be_restarted_from_a_chosen_outcome(self, officer_client, complaint):
        save_reply(officer_client, complaint)
        response = officer_client.post(url("reply_draft", complaint), {"outcome": reply_templates.REJECTED})
        assert response.status_code == 302
        complaint.refresh_from_db()
        assert "non possiamo accogliere" in complaint.reply_conclusions
        assert "non sospende l'obbligo di pagare" in complaint.reply_conclusions

    def test_unknown_cases_answer_404(self, officer_client):
        for name in ("change", "assign", "note", "reply_preview", "send_reply"):
            response = officer_client.get(reverse(f"admin:complaints_complaint_{name}", args=[987654]))
            assert response.status_code in (302, 404)  # admin's change view redirects to the list


# ---------------------------------------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------------------------------------


class TestRoles:
    def test_a_billing_officer_sees_cases_but_cannot_work_them(self, client, complaint):
        client.force_login(staff("bollette@optima.example", roles.BILLING_OFFICER))
        assert client.get(url("changelist"), follow=True).status_code == 200
        page = client.get(url("change", complaint))
        assert page.status_code == 200 and "Assegna a me" not in page.content.decode()
        assert client.post(url("assign_to_me", complaint)).status_code == 403
        assert client.get(url("note", complaint)).status_code == 403
        assert client.post(url("send_reply", complaint), {"delay_cause": ""}).status_code == 403
        assert client.get(url("add")).status_code == 403
        complaint.refresh_from_db()
        assert complaint.assignee is None

    def test_a_supervisor_can_work_cases(self, client, complaint):
        supervisor = staff("supervisore@optima.example", roles.SUPERVISOR)
        client.force_login(supervisor)
        assert client.post(url("assign_to_me", complaint)).status_code == 302
        complaint.refresh_from_db()
        assert complaint.assignee == supervisor

    def test_nobody_deletes_a_case(self, admin_client, complaint):
        assert (
            admin_client.get(reverse("admin:complaints_complaint_delete", args=[complaint.pk])).status_code
            == 403
        )
        action_form = admin_client.get(url("changelist"), follow=True).context["action_form"]
        choices = action_form.fields["action"].choices
        assert "delete_selected" not in {name for name, _label in choices}


def test_the_assignee_list_offers_complaint_staff_only(officer_client, officer, colleague):
    UserFactory(email="bollette@optima.example", is_staff=True).groups.add(
        roles.sync_roles()[roles.BILLING_OFFICER]
    )
    complaint = file(active_contract())
    form = officer_client.get(url("assign", complaint)).context["form"]
    emails = {user.email for user in form.fields["assignee"].queryset}
    assert emails == {officer.email, colleague.email}


def test_bulk_assign_to_me_from_the_list(officer_client, officer):
    cases = [file(active_contract()) for _ in range(3)]
    response = officer_client.post(
        url("changelist"), {"action": "assign_to_me", "_selected_action": [c.pk for c in cases]}
    )
    assert response.status_code == 302
    assert Complaint.objects.filter(assignee=officer).count() == 3


def test_received_dates_in_the_future_are_refused(officer_client, contract):
    data = TestRegister().phone_data(
        contract, received_on=(today() + timedelta(days=2)).isoformat(), reply_address_confirmed="on"
    )
    assert "received_on" in officer_client.post(url("add"), data).context["adminform"].form.errors
