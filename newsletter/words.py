"""How counts and states read in pages and messages: "1 point", "3 points", "Sent"."""

from __future__ import annotations

import enum

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
