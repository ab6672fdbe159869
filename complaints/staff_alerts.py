"""E-mails to staff about a case (reminders, overdue): to the assignee, or the supervisors when unassigned."""

from django.contrib.auth import get_user_model
from django.db import transaction

from complaints.models import Complaint
from portal.roles import SUPERVISOR


def recipients(complaint: Complaint, *, to_assignee: bool) -> list[str]:
    if to_assignee and complaint.assignee and complaint.assignee.email:
        return [complaint.assignee.email]
    supervisors = get_user_model().objects.filter(groups__name=SUPERVISOR, is_active=True)
    return sorted(set(supervisors.values_list("email", flat=True)))


def queue(*, complaint: Complaint, subject: str, to_assignee: bool) -> None:
    emails = recipients(complaint, to_assignee=to_assignee)
    if not emails:
        return
    from complaints.tasks import send_staff_alert

    transaction.on_commit(lambda: send_staff_alert.delay(complaint.pk, str(subject), emails), robust=True)
