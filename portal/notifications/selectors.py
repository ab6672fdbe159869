from accounts.models import Customer
from portal.notifications.models import Communication


def unread_communications_count(customer: Customer | None) -> int:
    """How many communications the customer has not opened yet (served by `communication_unread_idx`)."""
    if customer is None:
        return 0
    return Communication.objects.for_customer(customer).unread().count()
