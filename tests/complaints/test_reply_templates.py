"""Reply templates and snippets: supervisors keep them in admin, officers find them on the case page."""

import pytest
from django.test import Client
from django.urls import reverse

from complaints import default_reply_templates, reply_templates
from complaints.models import Complaint, ReplySnippet, ReplyTemplate
from portal import roles
from tests.complaints.test_staff import file, staff, url
from tests.factories import active_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_client(client):
    client.force_login(staff("supervisore@optima.example", roles.SUPERVISOR))
    return client


@pytest.fixture
def officer_client():
    client = Client()  # its own session: a test may use a supervisor's too
    client.force_login(staff("reclami@optima.example", roles.COMPLAINTS_OFFICER))
    return client


@pytest.fixture
def complaint():
    return file(active_contract())


def drafted(client, complaint):
    form = client.get(url("change", complaint)).context["adminform"].form
    return {name: form[name].value() for name in reply_templates.SECTION_FIELDS}


def template_data(template, **changes):
    fields = ["name", "kind", "sector", "topic", "outcome"]
    texts = ["complaint_text", "checks_text", "conclusions_text", "rights_intro"]
    data = {name: getattr(template, name) for name in fields + texts}
    return {**data, "active": "on" if template.active else "", **changes}


def test_a_new_database_starts_with_the_drafts_the_portal_always_offered(complaint):
    assert ReplyTemplate.objects.count() == len(default_reply_templates.DEFAULT_TEMPLATES)
    draft = reply_templates.draft(complaint)
    assert f"(codice {complaint.code}), che riguarda gli importi che Le abbiamo fatturato" in draft.complaint
    assert "- le letture (reali e stimate) e i consumi fatturati" in draft.checks  # the billing topic's list
    assert draft.conclusions.startswith("[da completare: l'esito")
    assert "non sospende l'obbligo di pagare" in draft.conclusions
    assert "Servizio Conciliazione" in draft.rights and complaint.code in draft.rights
    upheld = reply_templates.draft(complaint, reply_templates.UPHELD)
    assert upheld.conclusions.startswith("Le verifiche confermano quanto ci ha segnalato e ci scusiamo")
    assert "non sospende" not in upheld.conclusions


def test_a_template_a_supervisor_changes_is_what_the_case_page_drafts(
    supervisor_client, officer_client, complaint
):
    billing = ReplyTemplate.objects.get(name="Verifiche: Fatturazione")
    checks = "Abbiamo ricontrollato {bolletta} e le letture di {fornitura}.\n\n[da completare: l'esito delle verifiche]"
    response = supervisor_client.post(
        reverse("admin:complaints_replytemplate_change", args=[billing.pk]),
        template_data(billing, checks_text=checks),
    )
    assert response.status_code == 302

    sections = drafted(officer_client, complaint)
    assert sections["reply_checks"].startswith(
        "Abbiamo ricontrollato le bollette del periodo che ha contestato"
    )
    assert "{" not in sections["reply_checks"]
    # The other sections still come from the general template; the rights stay the portal's own.
    assert complaint.code in sections["reply_complaint"]
    assert "Servizio Conciliazione" in sections["reply_rights"]


def test_a_new_template_for_an_outcome_is_offered_when_restarting_the_draft(supervisor_client, complaint):
    response = supervisor_client.post(
        reverse("admin:complaints_replytemplate_add"),
        {
            "name": "Bolletta stimata: fondato",
            "topic": Complaint.Topic.BILLING,
            "outcome": ReplyTemplate.Outcome.UPHELD,
            "conclusions_text": "La bolletta era calcolata su letture stimate: la ricalcoleremo con {bolletta}.",
            "rights_intro": "Restiamo a disposizione.",
            "active": "on",
        },
    )
    assert response.status_code == 302
    template = ReplyTemplate.objects.get(name="Bolletta stimata: fondato")

    response = supervisor_client.post(url("reply_draft", complaint), {"outcome": "upheld", "template": ""})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.reply_conclusions.startswith("La bolletta era calcolata su letture stimate")
    # The template opens the rights section; the conciliation and contacts follow, generated.
    assert complaint.reply_rights.startswith("Restiamo a disposizione.\n\nSe questa risposta non La soddisfa")

    # Chosen by name for another outcome, it still gives its sections; the rest come from the best match.
    response = supervisor_client.post(url("reply_draft", complaint), {"outcome": "", "template": template.pk})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.reply_conclusions.startswith("La bolletta era calcolata su letture stimate")
    assert "non sospende l'obbligo di pagare" in complaint.reply_conclusions


def test_a_switched_off_template_is_no_longer_used(complaint):
    ReplyTemplate.objects.filter(name="Verifiche: Fatturazione").update(active=False)
    assert "i dati della Sua fornitura e lo storico" in reply_templates.draft(complaint).checks


def test_an_unknown_placeholder_is_a_form_error(supervisor_client):
    response = supervisor_client.post(
        reverse("admin:complaints_replytemplate_add"),
        {"name": "Con errore", "conclusions_text": "Gentile {nome_cliente}, …", "active": "on"},
    )
    assert response.status_code == 200
    assert "Segnaposto sconosciuti: {nome_cliente}" in response.content.decode()
    assert not ReplyTemplate.objects.filter(name="Con errore").exists()


def test_the_legal_parts_are_not_among_the_template_fields(supervisor_client):
    page = supervisor_client.get(reverse("admin:complaints_replytemplate_add"))
    fields = set(page.context["adminform"].form.fields)
    assert fields == {
        "name", "active", "kind", "sector", "topic", "outcome",
        "complaint_text", "checks_text", "conclusions_text", "rights_intro",
    }  # fmt: skip


def test_a_snippet_a_supervisor_adds_is_offered_on_the_case_page(
    supervisor_client, officer_client, complaint
):
    response = supervisor_client.post(
        reverse("admin:complaints_replysnippet_add"),
        {
            "title": "Come leggere il contatore",
            "section": ReplySnippet.Section.CHECKS,
            "text": "Per il caso {codice} può inviarci un'autolettura dall'Area Clienti.",
            "active": "on",
        },
    )
    assert response.status_code == 302
    ReplySnippet.objects.create(title="Vecchio", text="Non più in uso.", active=False)

    page = officer_client.get(url("change", complaint))
    snippets = page.context["reply_snippets"]
    assert [snippet.title for snippet in snippets] == ["Come leggere il contatore"]
    content = page.content.decode()
    assert f"Per il caso {complaint.code} può inviarci" in content
    assert 'data-snippet-section="reply_checks"' in content and "Aggiungi a «Le nostre verifiche»" in content


def test_a_complaints_officer_reads_templates_but_cannot_change_them(officer_client):
    template = ReplyTemplate.objects.get(name="Bozza generale")
    assert officer_client.get(reverse("admin:complaints_replytemplate_changelist")).status_code == 200
    page = officer_client.get(reverse("admin:complaints_replytemplate_change", args=[template.pk]))
    assert page.status_code == 200 and "_save" not in page.content.decode()
    response = officer_client.post(
        reverse("admin:complaints_replytemplate_change", args=[template.pk]),
        template_data(template, conclusions_text="Cambiato da un addetto."),
    )
    assert response.status_code == 403
    template.refresh_from_db()
    assert template.conclusions_text != "Cambiato da un addetto."
    assert officer_client.get(reverse("admin:complaints_replytemplate_add")).status_code == 403
    assert officer_client.get(reverse("admin:complaints_replysnippet_add")).status_code == 403


def test_nobody_deletes_a_template_supervisors_switch_it_off(supervisor_client):
    template = ReplyTemplate.objects.get(name="Bozza generale")
    response = supervisor_client.get(reverse("admin:complaints_replytemplate_delete", args=[template.pk]))
    assert response.status_code == 403
