"""How counts and states read in pages and messages: "1 point", "3 points", "Sent"
(``shown_label``: in the page's language)."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

# Words for states whose value is not the right word to show.
_LABELS = {
    "retry": "Retrying",
    "sending": "Sending",
    "queued": "Queued",
    "active": "Active",
    "pending": "Waiting for confirmation",
    "complained": "Marked as spam",
    # how a subscriber came (SubscriberSource)
    "form": "Subscribe form",
    "cli": "Command line",
    "report": "Report request",
    "staff": "Added by staff",
}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` and the noun that agrees with it: ``plural(1, "point")`` is "1 point"."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def label(value: object) -> str:
    """A status (an enum or its value) as a word for people: ``sent`` reads "Sent"."""
    raw = value.value if isinstance(value, enum.Enum) else str(value)
    return _LABELS.get(raw, raw.replace("_", " ").capitalize())


# The labels in the page's language (``label`` stays English for the command line and
# the records). A label missing here shows in English.
_SHOWN = {
    "Waiting for confirmation": _l("Waiting for confirmation"),
    "Active": _l("Active"),
    "Unsubscribed": _l("Unsubscribed"),
    "Bounced": _l("Bounced"),
    "Marked as spam": _l("Marked as spam"),
    "Subscribe form": _l("Subscribe form"),
    "Import": _l("Import"),
    "Command line": _l("Command line"),
    "Report request": _l("Report request"),
    "Added by staff": _l("Added by staff"),
    "Requested": _l("Requested"),
    "Confirmed": _l("Confirmed"),
    "Added": _l("Added"),
    "Imported": _l("Imported"),
    "Changed": _l("Changed"),
    "Draft": _l("Draft"),
    "Scheduled": _l("Scheduled"),
    "Sending": _l("Sending"),
    "Paused": _l("Paused"),
    "Sent": _l("Sent"),
    "Cancelled": _l("Cancelled"),
    "Queued": _l("Queued"),
    "Retrying": _l("Retrying"),
    "Failed": _l("Failed"),
    "Skipped": _l("Skipped"),
    "Anyone": _l("Anyone"),
    "Domains": _l("Domains"),
    "Unverified": _l("Unverified"),
    "Approved": _l("Approved"),
    "Declined": _l("Declined"),
    "Revoked": _l("Revoked"),
    "Uploaded": _l("Uploaded"),
    "Rule changed": _l("Rule changed"),
    "Verified": _l("Verified"),
    "Link sent": _l("Link sent"),
    "Downloaded": _l("Downloaded"),
    "Erased": _l("Erased"),
    "Requester": _l("Requester"),
    "Rule": _l("Rule"),
    "Operator": _l("Operator"),
    "System": _l("System"),
    "Admin": _l("Admin"),
    "Editor": _l("Editor"),
    "Hard bounce": _l("Hard bounce"),
    "Soft bounce": _l("Soft bounce"),
    "Rejected": _l("Rejected"),
    "Complaint": _l("Complaint"),
    "Unsubscribe asked": _l("Unsubscribe asked"),
    "Auto reply": _l("Auto reply"),
    "Delayed": _l("Delayed"),
    "Delivered": _l("Delivered"),
    "Bounce": _l("Bounce"),
    "Unsubscribe": _l("Unsubscribe"),
    "Notice": _l("Notice"),
    "Forwarded": _l("Forwarded"),
    "Kept": _l("Kept"),
    "Unmatched": _l("Unmatched"),
    "Unreadable": _l("Unreadable"),
}


def shown_label(value: object) -> str:
    """``label`` in the language being rendered: what pages show."""
    text = label(value)
    return str(_SHOWN.get(text, text))
