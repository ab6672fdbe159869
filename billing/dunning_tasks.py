"""Celery entry points of dunning: sending default notices chosen by staff in admin.

Each notice renders a PDF letter (~0.3 s), so admin queues them instead of rendering inside the request
(DESIGN.md §4). Imported by billing/sweeps.py, which billing/tasks.py imports: every worker registers them.
"""

import logging

from celery import shared_task
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing import dunning
from billing.models import DefaultNotice
from portal.lib.dates import rome_date
from portal.models import User

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def send_default_notices(notice_ids: list[int], channel: str, user_id: int | None = None) -> int:
    """Send each notice still to be sent: by PEC now, or as a raccomandata written for printing. One
    transaction per notice; a notice already written is skipped, so a redelivered message sends nothing
    twice. Returns how many were sent or written."""
    by = User.objects.filter(pk=user_id).first() if user_id else None
    done = 0
    for notice in DefaultNotice.objects.filter(
        pk__in=notice_ids, status=DefaultNotice.Status.PREPARED, communication__isnull=True
    ).order_by("pk"):
        now = timezone.now()
        try:
            if channel == DefaultNotice.Channel.PEC:
                dunning.record_dispatch(
                    notice=notice, channel=channel, sent_on=rome_date(now), by=by, now=now
                )
            else:
                dunning.issue_notice_letter(notice=notice)
        except ValidationError as error:
            logger.warning("Default notice %s not sent: %s", notice.pk, " ".join(error.messages))
            continue
        except Exception:
            # One broken notice (a customer without an address, a template error) must not stop the others.
            logger.exception("Default notice %s: sending failed", notice.pk)
            continue
        done += 1
    return done
