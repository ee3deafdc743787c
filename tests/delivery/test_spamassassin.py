"""SpamAssassin (offline, as EMAIL-FACTS describes) finds every kind of message we send
clean: at most 0.5 points. Each kind is one entry of ``KINDS``: a function that makes
the app send that message and returns it as it arrived; add one for each new kind of
message (the report emails join here when they land)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from typing import Any

import pytest

from newsletter.delivery import execution
from newsletter.digests.models import Digest
from newsletter.extensions import db
from tests import dkimkeys
from tests.subscriptions.helpers import subscribe, subscribe_and_confirm

MAX_SCORE = 0.5
SPAMASSASSIN = shutil.which("spamassassin")
PERSIAN_SUBJECT = "گفت‌وگوی منطقه‌ای درباره صلح و تجارت در افغانستان"


def _confirmation(request: pytest.FixtureRequest) -> bytes:
    request.getfixturevalue("make_list")("digest", "Dialogue digest", default=True)
    subscribe(request.getfixturevalue("client"), "ada@example.org", name="Ada Reader")
    return request.getfixturevalue("outbox").wait_for(1)[0].data


def _welcome(request: pytest.FixtureRequest) -> bytes:
    request.getfixturevalue("make_list")("digest", "Dialogue digest", default=True)
    client, outbox = request.getfixturevalue("client"), request.getfixturevalue("outbox")
    return subscribe_and_confirm(client, outbox, "ada@example.org", name="Ada Reader").data


def _digest(request: pytest.FixtureRequest) -> bytes:
    app = request.getfixturevalue("app")
    digest_id = request.getfixturevalue("digest_id")
    request.getfixturevalue("add_subscribers")(1)
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        digest.subject = PERSIAN_SUBJECT
        digest.preheader = "The main points of our latest session, in five minutes"
        db.session.commit()
    request.getfixturevalue("start")(digest_id)
    execution.work_on(app, digest_id)
    return request.getfixturevalue("outbox").wait_for(1)[0].data


def _dari_confirmation(request: pytest.FixtureRequest) -> bytes:
    request.getfixturevalue("make_list")("digest", "Dialogue digest", default=True)
    client = request.getfixturevalue("client")
    subscribe(
        client,
        "maryam@example.org",
        environ_base={"HTTP_ACCEPT_LANGUAGE": "fa-AF"},
        name="مریم احمدی",
    )
    message = request.getfixturevalue("outbox").wait_for(1)[0]
    assert message.message["Content-Language"] == "fa-AF"
    return message.data


def _dari_digest(request: pytest.FixtureRequest) -> bytes:
    from tests.delivery.test_variants import give_dari_variant, set_languages

    app = request.getfixturevalue("app")
    digest_id = request.getfixturevalue("digest_id")
    readers = request.getfixturevalue("add_subscribers")(1)
    set_languages(app, dict.fromkeys(readers, "fa-AF"))
    give_dari_variant(app, digest_id)
    request.getfixturevalue("start")(digest_id)
    execution.work_on(app, digest_id)
    message = request.getfixturevalue("outbox").wait_for(1)[0]
    assert message.message["Content-Language"] == "fa-AF"
    return message.data


KINDS: dict[str, Callable[[pytest.FixtureRequest], bytes]] = {
    "confirmation": _confirmation,
    "welcome": _welcome,
    "digest with a preheader and a Persian subject": _digest,
    "confirmation in Dari": _dari_confirmation,
    "digest in Dari": _dari_digest,
}


def spam_score(message: bytes) -> tuple[float, str]:
    """(score, report) from SpamAssassin with local tests only and no Bayes."""
    assert SPAMASSASSIN is not None
    with tempfile.TemporaryDirectory() as home:
        result = subprocess.run(
            [SPAMASSASSIN, "-L", "-t", "-x", "--cf=use_bayes 0", "--cf=bayes_auto_learn 0"],
            input=message,
            capture_output=True,
            env={"HOME": home, "PATH": "/usr/bin:/bin"},
            timeout=180,
            check=False,
        )
    output = result.stdout.decode("utf-8", "replace")
    status = re.search(r"X-Spam-Status: (\w+), score=(-?[\d.]+)", output)
    assert status, result.stderr.decode()[-2000:]
    return float(status.group(2)), output[output.find("Content analysis details") :]


@pytest.mark.skipif(SPAMASSASSIN is None, reason="spamassassin is not installed")
@pytest.mark.app_config(**dkimkeys.CONFIG, BOUNCE_DOMAIN="bounces.news.example.org")
@pytest.mark.parametrize("kind", list(KINDS))
def test_spamassassin_finds_each_kind_of_message_clean(
    request: pytest.FixtureRequest, kind: str, app: Any
) -> None:
    message = KINDS[kind](request)
    score, report = spam_score(message)
    assert score <= MAX_SCORE, f"{kind}: {score}\n{report}"
