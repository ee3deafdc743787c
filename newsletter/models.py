"""Every model, imported in one place so that the metadata (and Alembic) sees them all."""

from newsletter.auth.models import StaffUser
from newsletter.delivery.models import Delivery
from newsletter.digests.models import Digest, DigestItem, digest_lists
from newsletter.mailing.models import OutgoingMail
from newsletter.sessions.models import DialogueSession, Series, SummaryPoint
from newsletter.subscriptions.models import (
    ConsentEvent,
    ConsentText,
    MailingList,
    Membership,
    Subscriber,
    Suppression,
)

__all__ = [
    "Delivery",
    "DialogueSession",
    "Digest",
    "DigestItem",
    "Series",
    "StaffUser",
    "SummaryPoint",
    "digest_lists",
    "ConsentEvent",
    "ConsentText",
    "MailingList",
    "Membership",
    "OutgoingMail",
    "Subscriber",
    "Suppression",
]
