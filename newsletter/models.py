"""Every model, imported in one place so that the metadata (and Alembic) sees them all."""

from newsletter.mailing.models import OutgoingMail
from newsletter.subscriptions.models import (
    ConsentEvent,
    ConsentText,
    MailingList,
    Membership,
    Subscriber,
    Suppression,
)

__all__ = [
    "ConsentEvent",
    "ConsentText",
    "MailingList",
    "Membership",
    "OutgoingMail",
    "Subscriber",
    "Suppression",
]
