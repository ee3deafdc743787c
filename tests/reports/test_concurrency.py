"""Simultaneous requests (a double click, two staff at once) act once."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.reports.models import ReportGrant, ReportRequest, RequestStatus
from tests.conftest import STAFF_PASSWORD, form_values
from tests.subscriptions.helpers import text_of
from tests.web.test_concurrency import _post_together, _session

pytestmark = pytest.mark.app_config(MAIL_DISPATCH="inline")


def test_simultaneous_asks_verifies_and_approvals_act_once(
    live_server, make_session, make_staff, outbox
):
    slug = make_session()
    url = live_server.url
    reader = _session()
    values = form_values(reader.open(f"{url}/sessions/{slug}/report").read().decode())
    values.pop("website")
    values.update(
        {"email": "double@example.org", "name": "Ada", "purpose": "Research on mediation."}
    )
    codes = _post_together(reader, f"{url}/sessions/{slug}/report", values, 3)
    assert codes == [302] * 3
    time.sleep(0.3)
    assert [m.to for m in outbox.received] == ["double@example.org"]

    make_staff("editor@example.org")
    token = text_of(outbox.received[0]).split("/reports/verify/", 1)[1].split()[0]
    verify_url = f"{url}/reports/verify/{token}"
    button = form_values(reader.open(verify_url).read().decode())
    assert _post_together(reader, verify_url, button, 4) == [200] * 4

    staff = _session()
    login = form_values(staff.open(f"{url}/staff/login").read().decode())
    login.update({"email": "editor@example.org", "password": STAFF_PASSWORD})
    with pytest.raises(urllib.error.HTTPError, match="302"):  # logged in, redirected
        staff.open(f"{url}/staff/login", data=urllib.parse.urlencode(login).encode())
    with live_server.app.app_context():
        request_id = db.session.scalar(sa.select(ReportRequest.id))
    queue = form_values(staff.open(f"{url}/staff/reports").read().decode(), having="note")
    codes = _post_together(staff, f"{url}/staff/reports/{request_id}/approve", queue, 4)
    assert codes == [302] * 4
    time.sleep(0.3)
    with live_server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReportRequest.id))) == 1
        assert db.session.scalar(sa.select(ReportRequest.status)) == RequestStatus.APPROVED
        assert db.session.scalar(sa.select(sa.func.count(ReportGrant.id))) == 1
    subjects = [str(m.message["Subject"]) for m in outbox.received]
    assert subjects.count("Your copy of the detailed report: Political agreement in Kabul") == 1
    assert sum("waits for a decision" in s for s in subjects) == 1  # verified once
