"""The record kept without personal data after erasure, its CSV export, the command
line, and the purge of unverified requests."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.reports.models import ReportRequest, RequestStatus
from newsletter.subscriptions.models import Subscriber, Suppression
from tests.reports.fixtures import actions, events_of, requests_of, set_status
from tests.reports.helpers import PDF, ask, link_in, press_the_button
from tests.subscriptions.helpers import subscribe_and_confirm, text_of


def _approved(app, client, outbox, slug, staff_login, email="reader@example.org"):
    before = len(outbox.received)
    ask(client, slug, email, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    press_the_button(client, link_in(outbox.wait_for(before + 1)[before], "/reports/verify/"))
    found = requests_of(app)[-1]
    staff_login()
    token = staff_login.csrf_token()
    client.post(
        f"/staff/reports/{found.id}/approve",
        data={"csrf_token": token, "note": "For Ada Reader only."},
    )
    return found.id, outbox.received[-1]


def _everything_about(app, needle: str) -> list[str]:
    """Every table's rows that mention ``needle`` (as the issue's erasure test asks)."""
    hits = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                if needle.lower() in repr(tuple(row)).lower():
                    hits.append(f"{table.name}: {row}")
    return hits


def test_erasure_from_the_preferences_page_erases_requests_too(
    app, client, outbox, slug, staff_login, make_list
):
    make_list("digest", "Dialogue digest", default=True)
    welcome = subscribe_and_confirm(client, outbox, "reader@example.org", name="Ada Reader")
    preferences = link_in(welcome, "/preferences/")
    _, letter = _approved(app, client, outbox, slug, staff_login)
    download = link_in(letter, "/reports/download/")
    assert _everything_about(app, "reader@example.org")

    page = client.get(preferences + "/erase")
    from tests.conftest import form_values

    values = form_values(page.get_data(as_text=True))
    values["sure"] = "y"
    assert client.post(preferences + "/erase", data=values).status_code == 200

    assert _everything_about(app, "reader@example.org") == []
    assert _everything_about(app, "Ada Reader") == []
    assert _everything_about(app, "203.0.113.9") == []
    (erased,) = requests_of(app)
    assert erased.status == RequestStatus.APPROVED  # counts stay
    assert erased.erased_at is not None
    assert actions(app)[-1] == "erased"
    assert client.get(download).status_code == 410
    queue = client.get("/staff/reports?status=approved").get_data(as_text=True)
    assert "(erased)" in queue


def test_a_requester_who_is_not_subscribed_erases_themselves(
    app, client, outbox, slug, staff_login
):
    _, letter = _approved(app, client, outbox, slug, staff_login)
    erase = link_in(letter, "/reports/erase/")
    reader = app.test_client()
    page = reader.get(erase)
    assert page.status_code == 200
    from tests.conftest import form_values

    values = form_values(page.get_data(as_text=True))
    unticked = reader.post(erase, data=values)
    assert unticked.status_code == 400
    assert "Please tick the box" in unticked.get_data(as_text=True)
    values["sure"] = "y"
    assert reader.post(erase, data=values).status_code == 200
    assert _everything_about(app, "reader@example.org") == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Suppression)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportRequest)) == 1
    assert reader.get(erase).status_code == 200  # erased already: harmless


def test_an_admin_erases_a_requester(app, client, outbox, slug, staff_login, make_list, make_staff):
    from tests.conftest import StaffLogin

    make_list("digest", "Dialogue digest", default=True)
    subscribe_and_confirm(client, outbox, "reader@example.org")
    request_id, _ = _approved(app, client, outbox, slug, staff_login)
    admin = app.test_client()
    admin_login = StaffLogin(admin, make_staff)
    admin_login("admin@example.org", "admin")
    token = admin_login.csrf_token(f"/staff/reports/{request_id}")
    response = admin.post(f"/staff/reports/{request_id}/erase", data={"csrf_token": token})
    assert response.status_code == 302
    assert _everything_about(app, "reader@example.org") == []
    with app.app_context():
        assert db.session.scalar(sa.select(Subscriber)) is None
    erased_event = events_of(app)[-1]
    assert (erased_event.action.value, erased_event.actor_label) == ("erased", "admin@example.org")


def test_the_record_exports_as_csv(app, client, outbox, slug, staff_login):
    request_id, letter = _approved(app, client, outbox, slug, staff_login)
    reader = app.test_client()
    got = press_the_button(reader, link_in(letter, "/reports/download/"))
    assert got.data == PDF
    got.close()
    # A requester's words never run as a spreadsheet formula.
    set_status(app, request_id, email='=HYPERLINK("http://evil")@example.org')
    response = client.get("/staff/reports/record.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["action"] for row in rows] == [
        "uploaded", "requested", "verified", "approved", "link sent", "downloaded",
    ]  # fmt: skip
    approved = rows[3]
    assert approved["actor"] == "editor@example.org"
    assert approved["note"] == "For Ada Reader only."
    assert rows[1]["ip"] == "203.0.113.9"
    assert rows[5]["version"] == "1"
    assert all(row["requester"].startswith("'=") for row in rows[1:])
    with app.app_context():
        from newsletter.reports.models import Report

        session_id = db.session.scalar(sa.select(Report.session_id))
    one = client.get(f"/staff/reports/record.csv?session={session_id}")
    assert one.headers["Content-Disposition"] == (
        f'attachment; filename="report-record-{slug}.csv"'
    )
    assert len(list(csv.DictReader(io.StringIO(one.get_data(as_text=True))))) == len(rows)
    assert client.get("/staff/reports/record.csv?session=999").status_code == 404


def test_the_command_line(app, runner, client, outbox, slug, tmp_path):
    from tests.reports.helpers import docx

    ask(client, slug, "one@example.org")
    ask(client, slug, "two@example.org")
    for message in outbox.wait_for(2):
        press_the_button(client, link_in(message, "/reports/verify/"))
    one, two = requests_of(app)

    listed = runner.invoke(args=["reports", "list", "--status", "pending"])
    assert listed.exit_code == 0, listed.output
    lines = [line.split() for line in listed.output.splitlines()]
    assert lines[1][:4] == [str(one.id), "pending", "one@example.org", slug]
    approved = runner.invoke(args=["reports", "approve", str(one.id), "--note", "Welcome."])
    assert approved.exit_code == 0, approved.output
    assert "on its way to one@example.org" in approved.output
    assert "Welcome." in text_of(outbox.received[-1])
    again = runner.invoke(args=["reports", "approve", str(one.id)])
    assert again.exit_code == 1
    assert f"Request #{one.id} cannot be approved: it was approved" in again.output
    declined = runner.invoke(args=["reports", "decline", str(two.id), "--note", "Sorry."])
    assert declined.exit_code == 0, declined.output
    revoked = runner.invoke(args=["reports", "revoke", str(one.id)])
    assert revoked.exit_code == 0
    assert "1 live link(s) stopped" in revoked.output
    missing = runner.invoke(args=["reports", "revoke", "999"])
    assert "There is no report request #999." in missing.output
    statuses = runner.invoke(args=["reports", "list"]).output
    assert "revoked" in statuses
    assert "declined" in statuses
    approval = next(e for e in events_of(app) if e.action.value == "approved")
    assert approval.actor_kind.value == "operator"

    upload = tmp_path / "final.docx"
    upload.write_bytes(docx())
    stored = runner.invoke(args=["reports", "upload", slug, str(upload)])
    assert stored.exit_code == 0, stored.output
    assert f"Stored version 2 of the report of {slug} (Word document (DOCX))." in stored.output
    renamed = tmp_path / "image.pdf"
    renamed.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    refused = runner.invoke(args=["reports", "upload", slug, str(renamed)])
    assert refused.exit_code == 1
    assert "This file is a PNG image" in refused.output
    unknown = runner.invoke(args=["reports", "upload", "no-such-session", str(upload)])
    assert "There is no session 'no-such-session'." in unknown.output


def test_unverified_requests_are_purged(app, runner, client, outbox, slug):
    ask(client, slug, "old@example.org")
    ask(client, slug, "verified@example.org")
    press_the_button(client, link_in(outbox.wait_for(2)[1], "/reports/verify/"))
    old, _ = requests_of(app)
    set_status(
        app,
        old.id,
        created_at=old.created_at - timedelta(days=8),
        verification_sent_at=old.created_at - timedelta(days=8),
    )
    result = runner.invoke(args=["reports", "purge-unverified", "--older-than", "7"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 unverified request(s)." in result.output
    assert [found.email for found in requests_of(app)] == ["verified@example.org"]
    assert _everything_about(app, "old@example.org") == []
