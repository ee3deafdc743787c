"""A digest in several languages: one variant per language (subject, preheader, intro,
outro and the items' words), the default language's being the digest's own columns.

A variant starts from the sessions' translations (``start``); it is complete when it
has a subject and every item has words in its language. A send gives each subscriber
the variant in their language when it is complete, else the default one
(``language_for``); staff see beforehand how many would get that fallback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from newsletter import i18n
from newsletter.digests.models import Digest, DigestItem
from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber
from newsletter.validation import InvalidInput, check_characters, clean_block, clean_text

FIELDS = ("subject", "preheader", "intro", "outro")


@dataclass(frozen=True)
class Texts:
    """What a variant says (the default language: the digest's own words)."""

    language: str
    subject: str
    preheader: str
    intro: str
    outro: str
    items: tuple[str, ...]


def other_languages() -> list[str]:
    return i18n.languages()[1:]


def item_text(item: DigestItem, language: str) -> str | None:
    """The item's words in ``language``: this digest's own, else the point's translation."""
    if language == i18n.default_language():
        return item.text
    own = (item.translations or {}).get(language)
    if own:
        return own
    return (item.point.translations or {}).get(language) or None


def missing(digest: Digest, language: str) -> list[str]:
    """What the variant lacks (empty: complete): "subject", "item 3", …"""
    if language == i18n.default_language():
        return []
    variant = (digest.variants or {}).get(language, {})
    gaps = [name for name in FIELDS if getattr(digest, name) and not variant.get(name)]
    gaps += [
        f"item {number}"
        for number, item in enumerate(digest.items, start=1)
        if not item_text(item, language)
    ]
    return gaps


def is_complete(digest: Digest, language: str) -> bool:
    return not missing(digest, language)


def sendable_languages(digest: Digest) -> list[str]:
    """The default language and every language whose variant is complete."""
    return [
        language
        for language in i18n.languages()
        if language == i18n.default_language() or is_complete(digest, language)
    ]


def language_for(reader_language: str | None, sendable: list[str]) -> str:
    """The variant a reader gets: theirs if it can be sent, else the default."""
    chosen = i18n.or_default(reader_language)
    return chosen if chosen in sendable else i18n.default_language()


def texts(digest: Digest, language: str) -> Texts:
    """The variant's words; a gap falls back to the default language's words (staff
    see the gaps; a send only uses complete variants)."""
    variant = (
        {} if language == i18n.default_language() else (digest.variants or {}).get(language, {})
    )
    return Texts(
        language=language,
        subject=variant.get("subject") or digest.subject,
        preheader=variant.get("preheader") or digest.preheader,
        intro=variant.get("intro") or digest.intro,
        outro=variant.get("outro") or digest.outro,
        items=tuple(item_text(item, language) or item.text for item in digest.items),
    )


def start(digest: Digest, language: str) -> None:
    """Begin a variant from the sessions' translations: each item without words in the
    language takes its point's translation. Flushes."""
    _check_language(language)
    for item in digest.items:
        point_words = (item.point.translations or {}).get(language)
        if point_words and not (item.translations or {}).get(language):
            item.translations = {**(item.translations or {}), language: point_words}
    db.session.flush()


def save(
    digest: Digest,
    language: str,
    values: Mapping[str, str],
    item_texts: Mapping[int, str],
) -> None:
    """Store a variant's texts (``values`` by field name) and its items' words (by item
    id; empty: the point's translation, or nothing). Flushes."""
    _check_language(language)
    from newsletter.digests import services

    services.require_editable(digest)
    subject = values.get("subject", "")
    variant = {
        # An empty subject leaves the variant incomplete (not an error: work in progress).
        "subject": services.check_subject(subject) if subject.strip() else "",
        "preheader": clean_text(
            " ".join(values.get("preheader", "").split()), "preheader", services.MAX_SUBJECT
        ),
        "intro": clean_block(values.get("intro", ""), "intro", services.MAX_TEXT),
        "outro": clean_block(values.get("outro", ""), "outro", services.MAX_TEXT),
    }
    digest.variants = {**(digest.variants or {}), language: variant}
    items = {item.id: item for item in digest.items}
    for item_id, text in item_texts.items():
        item = items.get(item_id)
        if item is None:
            raise InvalidInput(f"Item {item_id} is not in this digest.")
        check_characters(text, "text", label="item")
        words = " ".join(text.split())
        if len(words) > services.MAX_TEXT:
            raise InvalidInput(f"An item has at most {services.MAX_TEXT} characters.", "text")
        translations = dict(item.translations or {})
        if words:
            translations[language] = words
        else:
            translations.pop(language, None)
        item.translations = translations or None
    db.session.flush()


def _check_language(language: str) -> None:
    if language not in other_languages():
        raise InvalidInput(
            f"{language!r} is not a language of a variant: choose one of "
            f"{', '.join(other_languages()) or 'none (only one language is configured)'}."
        )


def readers_by_language(subscriber_ids: sa.Select) -> Counter[str]:
    """How many of ``subscriber_ids`` (a select of ids) read each language."""
    rows = db.session.execute(
        sa.select(Subscriber.language, sa.func.count())
        .where(Subscriber.id.in_(subscriber_ids))
        .group_by(Subscriber.language)
    ).all()
    counts: Counter[str] = Counter()
    for language, count in rows:
        counts[i18n.or_default(language)] += int(count)
    return counts


@dataclass(frozen=True)
class PlannedLanguage:
    language: str
    readers: int
    sent_in: str  # their own language, or the default one (the fallback)

    @property
    def falls_back(self) -> bool:
        return self.sent_in != self.language


def send_plan(digest: Digest, counts: Counter[str]) -> list[PlannedLanguage]:
    """Per configured language: how many readers, and which variant they will get."""
    sendable = sendable_languages(digest)
    return [
        PlannedLanguage(language, counts.get(language, 0), language_for(language, sendable))
        for language in i18n.languages()
        if counts.get(language, 0) or language in sendable
    ]


def fallbacks(digest: Digest, counts: Counter[str]) -> dict[str, int]:
    """Readers per language whose variant cannot be sent (they get the default one)."""
    sendable = sendable_languages(digest)
    return {
        language: count
        for language, count in sorted(counts.items())
        if language not in sendable and count
    }
