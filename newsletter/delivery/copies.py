"""Each recipient's copy of a digest: the shared message filled with their own links.

``DigestMailer`` does the costly work once per digest (render, inline CSS, encode,
URL prefixes, the List-Id), once for each language with a complete variant; ``build``
then costs tens of microseconds per copy whatever its language: two signed tokens, a
few headers, a join of bytes (and a DKIM signature when enabled).
A staff test copy is built by the same code, with ``[Test]`` in its subject.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from email.utils import make_msgid

import sqlalchemy as sa
from flask import current_app

from newsletter import i18n, links
from newsletter.bounces import verp
from newsletter.digests import render, variants
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.mailing import headers, queue
from newsletter.mailing.dkim import signer_for
from newsletter.mailing.mime import DotSafe, format_address
from newsletter.subscriptions.models import Subscriber, SubscriberStatus
from newsletter.tokens import Purpose, make_token

_SLOT = "SLOT0FOR0TOKEN"  # where a token goes in a link; split off once
TEST_PREFIX = "[Test] "


@dataclass(frozen=True)
class Recipient:
    delivery_id: int | None  # None: a test copy, which belongs to no send
    email: str
    name: str
    public_id: uuid.UUID | None  # None: a tester with no subscription (public links)
    # The target list they get it through (their first by id); None: the digest's first.
    list_id: int | None = None
    language: str = ""  # the reader's; the variant in it if complete, else the default


class DigestMailer:
    def __init__(self, digest: Digest, *, test: bool = False) -> None:
        config = current_app.config
        prefix = TEST_PREFIX if test else ""
        # One prepared message per language that can be sent, never one per copy.
        self.languages = variants.sendable_languages(digest)
        self.templates = {
            language: render.build_message(digest, prefix, language) for language in self.languages
        }
        self.template = self.templates[i18n.default_language()]
        self.domain = config["SENDER_DOMAIN"]
        self.digest_key = digest.public_id.hex[:16]
        self._unsubscribe = links.external_url("public.unsubscribe", token=_SLOT).split(_SLOT)
        self._preferences = links.external_url("public.preferences", token=_SLOT).split(_SLOT)
        self.list_id = render.list_id(digest)
        self.list_ids = render.list_ids(digest)
        self.sender = headers.sender()[1]
        self.signer = signer_for(current_app._get_current_object())  # type: ignore[attr-defined]
        self._date = ("", 0)

    def message_id(self, recipient: Recipient) -> str:
        """Stable for a delivery (a retry reuses it), unique per copy, and with no part
        that stays the same for one subscriber across digests."""
        if recipient.delivery_id is None:
            return make_msgid(domain=self.domain)
        return verp.message_id(self.digest_key, recipient.delivery_id, self.domain)

    def _now(self) -> str:
        second = int(time.time())
        if self._date[1] != second:
            self._date = (headers.date(second), second)
        return self._date[0]

    def build(self, recipient: Recipient) -> tuple[str, bytes]:
        """(envelope sender, message bytes) for one recipient."""
        if recipient.public_id is None:
            slots = render.sample_slots()
            unsubscribe_token = ""  # no subscription: the mailto asks without a token
            unsubscribe_url, preferences_url = slots["unsubscribe_url"], slots["preferences_url"]
        else:
            public_hex = recipient.public_id.hex
            unsubscribe_token = make_token(Purpose.UNSUBSCRIBE, public_hex)
            unsubscribe_url = unsubscribe_token.join(self._unsubscribe)
            preferences_url = make_token(Purpose.PREFERENCES, public_hex).join(self._preferences)
        copy_headers = {
            "To": format_address(recipient.name or None, recipient.email),
            "Date": self._now(),
            "Message-ID": self.message_id(recipient),
            **headers.list_headers(
                unsubscribe_url,
                unsubscribe_token,
                self.list_ids.get(recipient.list_id, self.list_id),
            ),
        }
        template = self.templates[variants.language_for(recipient.language, self.languages)]
        data = template.fill(
            copy_headers, {"unsubscribe_url": unsubscribe_url, "preferences_url": preferences_url}
        )
        if self.signer is not None:  # its header lines start with a name or a space
            data = DotSafe(self.signer.sign(data))
        if recipient.delivery_id is None:
            return verp.envelope_sender(None, self.sender), data
        return verp.return_path(recipient.delivery_id) or self.sender, data


def send_test(digest: Digest, to_address: str, to_name: str = "", language: str = "") -> int:
    """Queue a staff test copy (sent after the caller commits): the real copy, built by
    ``DigestMailer`` like every other (signed, same headers), with ``[Test]`` in its
    subject and the tester's own links when they are a subscriber (else the public
    pages' links: there is no subscription for them to act on)."""
    subscriber = db.session.scalar(
        sa.select(Subscriber).where(Subscriber.email_key == to_address.lower())
    )
    active = subscriber is not None and subscriber.status == SubscriberStatus.ACTIVE
    public_id = subscriber.public_id if subscriber is not None and active else None
    envelope_from, data = DigestMailer(digest, test=True).build(
        Recipient(None, to_address, to_name, public_id, language=language)
    )
    return queue.enqueue(to_address, data, envelope_from)
