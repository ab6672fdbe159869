"""Quality indicators (public page and admin) and the complaint register export."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from complaints import reporting, services
from complaints.models import Complaint
from complaints.reporting import CaseFacts, indicators_from_cases
from portal import roles
from tests.factories import UserFactory, active_contract

D = Decimal


def case(kind, received, due, answered=None, indemnity=None):
    return CaseFacts(kind, received, due, answered, indemnity)


class TestIndicatorsArithmetic:
    """Pure: the numbers from the facts, without a database."""

    def test_received_by_receipt_quarter_answered_by_reply_quarter(self):
        indicators = indicators_from_cases(
            [
                # Received in Q1, answered in Q1 on time after 20 days.
                case("complaint", date(2026, 1, 10), date(2026, 2, 9), date(2026, 1, 30)),
                # Received in Q1, answered late in Q2 after 70 days: 60 € (band 2).
                case("complaint", date(2026, 3, 20), date(2026, 4, 19), date(2026, 5, 29), D("60.00")),
                # Received in Q2, still open.
                case("complaint", date(2026, 6, 1), date(2026, 7, 1)),
                # An information request answered in Q2 on time after 10 days.
                case("information_request", date(2026, 4, 1), date(2026, 5, 1), date(2026, 4, 11)),
                # Received in 2025, answered in 2026 Q1 after 40 days, late: 25 €.
                case("complaint", date(2025, 12, 20), date(2026, 1, 19), date(2026, 1, 29), D("25.00")),
            ],
            year=2026,
        )
        q1, q2, q3, q4 = indicators.quarters
        complaints_q1 = q1.rows[0]
        assert complaints_q1.kind == "complaint" and complaints_q1.standard_days == 30
        assert (complaints_q1.received, complaints_q1.answered, complaints_q1.answered_within) == (2, 2, 1)
        assert complaints_q1.within_percent == D("50.0")
        assert complaints_q1.average_days == D("30.0")  # (20 + 40) / 2
        assert (complaints_q1.indemnities, complaints_q1.indemnities_total) == (1, D("25.00"))

        complaints_q2 = q2.rows[0]
        assert (complaints_q2.received, complaints_q2.answered, complaints_q2.answered_within) == (1, 1, 0)
        assert complaints_q2.within_percent == D("0.0") and complaints_q2.average_days == D("70.0")
        assert (complaints_q2.indemnities, complaints_q2.indemnities_total) == (1, D("60.00"))
        requests_q2 = q2.rows[1]
        assert (requests_q2.received, requests_q2.answered, requests_q2.within_percent) == (1, 1, D("100.0"))

        assert (q2.total.received, q2.total.answered, q2.total.answered_within) == (2, 2, 1)
        assert q3.total.received == q4.total.received == 0 and q3.total.within_percent is None

        year = indicators.year_total
        assert (year.total.received, year.total.answered, year.total.indemnities) == (4, 4, 2)
        assert year.total.indemnities_total == D("85.00")
        assert year.total.within_percent == D("50.0")
        assert year.total.average_days == D("35.0")  # (20 + 40 + 70 + 10) / 4

    def test_the_standard_shown_is_the_one_in_force_that_year(self):
        assert indicators_from_cases([], year=2025).year_total.rows[3].standard_days == 20
        assert indicators_from_cases([], year=2026).year_total.rows[3].standard_days == 15

    def test_percentages_round_half_up_to_one_decimal(self):
        within = case("complaint", date(2026, 1, 1), date(2026, 1, 31), date(2026, 1, 5))
        late = case("complaint", date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 5))
        row = indicators_from_cases([within, within, late], year=2026).quarters[0].rows[0]
        assert row.within_percent == D("66.7")


# ---------------------------------------------------------------------------------------------------------
# With the database
# ---------------------------------------------------------------------------------------------------------


def file(received, kind="complaint", contract=None):
    contract = contract or active_contract()
    return services.file_complaint(
        kind=kind,
        topic=Complaint.Topic.BILLING,
        channel=Complaint.Channel.PORTAL,
        description="Bolletta troppo alta.",
        sent_on=received,
        customer=contract.customer,
        contract=contract,
        service=contract.services.get(),
    )


def answer(complaint, on):
    for name in ("reply_complaint", "reply_checks", "reply_conclusions", "reply_rights"):
        setattr(complaint, name, "Testo della sezione.")
    complaint.save(update_fields=["reply_complaint", "reply_checks", "reply_conclusions", "reply_rights"])
    return services.send_reply(complaint=complaint, answered_on=on, by=None)


@pytest.fixture
def dataset(db):
    """Q1 2026: two complaints, one answered on time (day 12), one late (day 45: 30 €); an information
    request received in Q1 and answered in Q2 (day 35); and one left unanswered."""
    on_time = answer(file(date(2026, 2, 2)), date(2026, 2, 14))
    late = answer(file(date(2026, 2, 10)), date(2026, 3, 27))
    request = answer(file(date(2026, 3, 20), kind="information_request"), date(2026, 4, 24))
    open_case = file(date(2026, 3, 25))
    return {"on_time": on_time, "late": late, "request": request, "open": open_case}


@pytest.mark.django_db
class TestQualityIndicators:
    def test_the_year_from_the_database(self, dataset):
        indicators = reporting.quality_indicators(2026)
        q1, q2 = indicators.quarters[:2]
        complaints, requests = q1.rows[0], q1.rows[1]
        assert (complaints.received, complaints.answered, complaints.answered_within) == (3, 2, 1)
        assert complaints.average_days == D("28.5")  # (12 + 45) / 2
        assert (complaints.indemnities, complaints.indemnities_total) == (1, D("30.00"))
        assert (requests.received, requests.answered) == (1, 0)
        assert (q2.rows[1].answered, q2.rows[1].answered_within, q2.rows[1].average_days) == (1, 0, D("35.0"))
        assert reporting.quality_indicators(2025).has_data is False

    def test_the_public_page_needs_no_login_and_shows_the_numbers(self, client, dataset):
        response = client.get(reverse("complaints_quality:public"), {"anno": "2026"})
        assert response.status_code == 200
        content = response.content.decode()
        assert "Qualità del servizio" in content
        assert "<caption" in content and 'scope="col"' in content and 'scope="row"' in content
        assert "50,0&nbsp;%" in content and "28,5" in content and "30,00&nbsp;€" in content
        assert response.context["year"] == 2026

    @pytest.mark.parametrize("year", ["abc", "1999", "", "2026'; drop table"])
    def test_a_bad_year_shows_the_current_one(self, client, year):
        response = client.get(reverse("complaints_quality:public"), {"anno": year})
        assert response.status_code == 200
        assert response.context["year"] == response.context["today"].year

    def test_the_admin_view_for_staff(self, client, dataset):
        officer = UserFactory(email="reclami@optima.example", is_staff=True)
        officer.groups.add(roles.sync_roles()[roles.COMPLAINTS_OFFICER])
        client.force_login(officer)
        changelist = client.get(reverse("admin:complaints_complaint_changelist"), follow=True)
        changelist = changelist.content.decode()
        assert reverse("admin:complaints_complaint_quality") in changelist
        response = client.get(reverse("admin:complaints_complaint_quality"), {"anno": "2026"})
        assert response.status_code == 200 and "28,5" in response.content.decode()

    def test_the_admin_view_is_for_staff_only(self, client):
        assert client.get(reverse("admin:complaints_complaint_quality")).status_code == 302


@pytest.mark.django_db
class TestRegisterExport:
    def read(self, response):
        body = b"".join(response.streaming_content).decode("utf-8")
        assert body.startswith("\ufeff")
        return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))

    def test_the_columns_and_a_late_row(self, admin_client, dataset):
        response = admin_client.get(
            reverse("admin:complaints_complaint_register"),
            {"date_from": "2026-01-01", "date_to": "2026-12-31"},
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert 'filename="registro-reclami-20260101-20261231.csv"' in response["Content-Disposition"]
        header, *rows = self.read(response)
        assert header == reporting.REGISTER_COLUMNS
        assert [row[0] for row in rows] == [dataset[k].code for k in ("on_time", "late", "request", "open")]
        late = dict(zip(header, rows[1], strict=True))
        customer = dataset["late"].customer
        service = dataset["late"].service
        assert late == {
            "Codice": dataset["late"].code,
            "Tipo": "Reclamo scritto",
            "Argomento (classificazione ARERA)": "Fatturazione",
            "Canale": "Area Clienti",
            "Stato": "Risposto",
            "Codice cliente": customer.code,
            "Codice fiscale / Partita IVA": customer.codice_fiscale,
            "Servizio": "Luce",
            "POD / PDR": service.pod,
            "Data di invio": "10/02/2026",
            "Data di ricevimento": "10/02/2026",
            "Risposta entro": "12/03/2026",
            "Data di risposta": "27/03/2026",
            "Giorni impiegati": "45",
            "Entro lo standard": "NO",
            "Causa del ritardo": "",
            "Indennizzo automatico (€)": "30,00",
            "Esclusione dell'indennizzo": "",
            "Motivo dell'esclusione": "",
        }
        on_time = dict(zip(header, rows[0], strict=True))
        assert (on_time["Giorni impiegati"], on_time["Entro lo standard"]) == ("12", "SI")
        still_open = dict(zip(header, rows[3], strict=True))
        assert still_open["Data di risposta"] == "" and still_open["Entro lo standard"] == "NO"

    def test_the_date_range_is_by_receipt(self, admin_client, dataset):
        response = admin_client.get(
            reverse("admin:complaints_complaint_register"),
            {"date_from": "2026-03-01", "date_to": "2026-03-31"},
        )
        _header, *rows = self.read(response)
        assert [row[0] for row in rows] == [dataset["request"].code, dataset["open"].code]

    def test_a_bad_range_shows_the_form_again(self, admin_client):
        url = reverse("admin:complaints_complaint_register")
        assert admin_client.get(url).status_code == 200
        response = admin_client.get(url, {"date_from": "2026-12-31", "date_to": "2026-01-01"})
        assert response.status_code == 200 and response.context["form"].errors
        response = admin_client.get(url, {"date_from": "ieri", "date_to": ""})
        assert response.status_code == 200 and response.context["form"].errors

    def test_the_list_action_exports_the_selected_cases(self, admin_client, dataset):
        response = admin_client.post(
            reverse("admin:complaints_complaint_changelist"),
            {"action": "export_register", "_selected_action": [dataset["late"].pk]},
        )
        _header, *rows = self.read(response)
        assert [row[0] for row in rows] == [dataset["late"].code]

    def test_the_delay_cause_and_the_exclusion_reach_the_register(self, admin_client):
        complaint = file(date(2026, 5, 4))
        services.exclude_indemnity(
            complaint=complaint,
            exclusion=Complaint.Exclusion.FORCE_MAJEURE,
            reason="Sciopero nazionale dei servizi postali.",
            by=None,
        )
        Complaint.objects.filter(pk=complaint.pk).update(delay_cause="Sciopero:\nuffici chiusi")
        answer(Complaint.objects.get(pk=complaint.pk), date(2026, 6, 20))
        response = admin_client.get(
            reverse("admin:complaints_complaint_register"),
            {"date_from": "2026-05-01", "date_to": "2026-05-31"},
        )
        header, row = self.read(response)
        row = dict(zip(header, row, strict=True))
        assert row["Causa del ritardo"] == "Sciopero: uffici chiusi"
        assert row["Esclusione dell'indennizzo"] == "Forza maggiore"
        assert row["Motivo dell'esclusione"] == "Sciopero nazionale dei servizi postali."
        assert row["Indennizzo automatico (€)"] == "" and row["Entro lo standard"] == "NO"
