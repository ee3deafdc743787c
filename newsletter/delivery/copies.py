"""Each recipient's copy of a digest: the shared message filled with their own links.

``DigestMailer`` does the costly work once per digest (render, inline CSS, encode,
URL prefixes, the List-Id); ``build`` then costs tens of microseconds per copy: two
signed tokens, a few headers, a join of bytes (and a DKIM signature when enabled).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from email.utils import formatdate

from flask import current_app

from newsletter import links
from newsletter.bounces import verp
from newsletter.digests import render
from newsletter.digests.models import Digest
from newsletter.mailing import headers
from newsletter.mailing.dkim import signer_for
from newsletter.mailing.mime import DotSafe, format_address
from newsletter.tokens import Purpose, make_token

_SLOT = "SLOT0FOR0TOKEN"  # where a token goes in a link; split off once


@dataclass(frozen=True)
class Recipient:
    delivery_id: int
    email: str
    name: str
    public_id: uuid.UUID


class DigestMailer:
    def __init__(self, digest: Digest) -> None:
        config = current_app.config
        self.template = render.build_message(digest)
        self.domain = config["SENDER_DOMAIN"]
        self.digest_key = digest.public_id.hex[:16]
        self._message_id_key = f"message-id:{config['SECRET_KEY']}".encode()
        self._unsubscribe = links.external_url("public.unsubscribe", token=_SLOT).split(_SLOT)
        self._preferences = links.external_url("public.preferences", token=_SLOT).split(_SLOT)
        self.list_id = headers.list_id()
        self.sender = headers.sender()[1]
        self.signer = signer_for(current_app._get_current_object())  # type: ignore[attr-defined]
        self._date = ("", 0)

    def message_id(self, recipient: Recipient) -> str:
        """Stable for a digest and a subscriber (a retry reuses it), unique per copy, and
        not revealing who the subscriber is."""
        tag = hmac.new(self._message_id_key, recipient.public_id.bytes, hashlib.sha256)
        return f"<{self.digest_key}.{tag.hexdigest()[:24]}@{self.domain}>"

    def _now(self) -> str:
        second = int(time.time())
        if self._date[1] != second:
            self._date = (formatdate(second, usegmt=True), second)
        return self._date[0]

    def build(self, recipient: Recipient) -> tuple[str, bytes]:
        """(envelope sender, message bytes) for one recipient."""
        public_hex = recipient.public_id.hex
        unsubscribe_token = make_token(Purpose.UNSUBSCRIBE, public_hex)
        unsubscribe_url = unsubscribe_token.join(self._unsubscribe)
        preferences_url = make_token(Purpose.PREFERENCES, public_hex).join(self._preferences)
        copy_headers = {
            "To": format_address(recipient.name or None, recipient.email),
            "Date": self._now(),
            "Message-ID": self.message_id(recipient),
            **headers.list_headers(unsubscribe_url, unsubscribe_token, self.list_id),
        }
        data = self.template.fill(
            copy_headers, {"unsubscribe_url": unsubscribe_url, "preferences_url": preferences_url}
        )
        if self.signer is not None:  # its header lines start with a name or a space
            data = DotSafe(self.signer.sign(data))
        return verp.return_path(recipient.delivery_id) or self.sender, data
