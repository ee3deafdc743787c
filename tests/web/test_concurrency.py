"""Simultaneous requests for one address (a double click, a retrying client) act once."""

from __future__ import annotations

import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions.models import ConsentAction, ConsentEvent, Subscriber
from tests.conftest import form_values
from tests.subscriptions.helpers import text_of
from tests.waiting import all_mail_attempted

pytestmark = pytest.mark.app_config(MAIL_DISPATCH="inline")


def _session():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post_together(opener, url: str, values: dict, count: int) -> list[int]:
    body = urllib.parse.urlencode(values, doseq=True).encode()
    start = threading.Barrier(count)
    codes: list[int] = []

    def post() -> None:
        start.wait()
        try:
            codes.append(opener.open(url, data=body, timeout=20).status)
        except urllib.error.HTTPError as error:
            codes.append(error.code)

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def test_simultaneous_subscribes_and_confirms_act_once(live_server, make_list, outbox):
    make_list("digest", "Dialogue digest", default=True)
    opener = _session()
    page = opener.open(live_server.url + "/subscribe").read().decode()
    values = form_values(page)
    values.pop("website")
    values["email"] = "double@example.org"

    codes = _post_together(opener, live_server.url + "/subscribe", values, 5)  # the address limit
    assert codes == [302] * 5
    all_mail_attempted(live_server.app)
    assert [m.to for m in outbox.received] == ["double@example.org"]

    link = text_of(outbox.received[0]).split("/confirm/", 1)[1].split()[0]
    confirm_url = f"{live_server.url}/confirm/{link}"
    confirm_values = form_values(opener.open(confirm_url).read().decode())
    codes = _post_together(opener, confirm_url, confirm_values, 6)
    assert codes == [200] * 6
    all_mail_attempted(live_server.app)
    assert [m.message["Subject"] for m in outbox.received] == [
        "Please confirm your subscription to Dialogue Digest",
        "Welcome to Dialogue Digest",
    ]
    with live_server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Subscriber.id))) == 1
        confirmations = db.session.scalar(
            sa.select(sa.func.count(ConsentEvent.id)).where(
                ConsentEvent.action == ConsentAction.CONFIRMED
            )
        )
        assert confirmations == 1
