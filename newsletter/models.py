"""Every model, imported in one place so that the metadata (and Alembic) sees them all."""

from newsletter.auth.models import StaffUser
from newsletter.bounces.models import InboundMessage, MailEvent
from newsletter.delivery.models import Delivery
from newsletter.digests.models import Digest, DigestItem, digest_lists
from newsletter.mailing.models import OutgoingMail
from newsletter.reports.models import (
    Report,
    ReportEvent,
    ReportGrant,
    ReportRequest,
    ReportVersion,
)
from newsletter.sessions.models import DialogueSession, Series, SummaryPoint
from newsletter.settings.models import SiteSettings
from newsletter.subscriptions.models import (
    ConsentEvent,
    ConsentText,
    ImportJob,
    MailingList,
    Membership,
    Subscriber,
    Suppression,
)

__all__ = [
    "ConsentEvent",
    "ConsentText",
    "Delivery",
    "DialogueSession",
    "Digest",
    "DigestItem",
    "ImportJob",
    "InboundMessage",
    "MailEvent",
    "MailingList",
    "Membership",
    "OutgoingMail",
    "Report",
    "ReportEvent",
    "ReportGrant",
    "ReportRequest",
    "ReportVersion",
    "Series",
    "SiteSettings",
    "StaffUser",
    "Subscriber",
    "SummaryPoint",
    "Suppression",
    "digest_lists",
]
