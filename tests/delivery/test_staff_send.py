"""Sending from the staff pages: confirm with the audience count, follow live, control."""

from __future__ import annotations

import threading

import pytest

from newsletter.delivery import execution
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from tests.conftest import form_values
from tests.waiting import wait_until


@pytest.fixture
def editor(staff_login):
    return staff_login()


def test_send_from_the_staff_pages(app, client, editor, add_subscribers, digest_id, outbox):
    readers = add_subscribers(12)
    add_subscribers(3, status="unsubscribed", prefix="left")
    confirm = client.get(f"/staff/digests/{digest_id}/send")
    page = confirm.get_data(as_text=True)
    assert "<strong>12 people</strong> will get it" in page
    values = form_values(page)
    started = client.post(f"/staff/digests/{digest_id}/send", data=values)
    assert started.status_code == 302
    assert started.headers["Location"].endswith(f"/staff/digests/{digest_id}/progress")

    figures = client.get(f"/staff/digests/{digest_id}/progress.json").get_json()
    assert figures["status"] == "sending"
    assert figures["total"] == 12
    assert figures["left"] == 12

    execution.work_on(app, digest_id)  # what the background thread or a worker does
    outbox.wait_for(12)
    figures = client.get(f"/staff/digests/{digest_id}/progress.json").get_json()
    assert figures["status"] == "sent"
    assert figures["sent"] == 12
    assert figures["left"] == 0
    assert figures["rate"] > 0

    progress = client.get(f"/staff/digests/{digest_id}/progress").get_data(as_text=True)
    assert 'data-field="sent">12<' in progress
    log = client.get(f"/staff/digests/{digest_id}/deliveries").get_data(as_text=True)
    assert readers[0] in log
    assert "250 2.0.0 OK queued" in log
    assert "Page 1 of 1" in log
    assert client.get(f"/staff/digests/{digest_id}/deliveries?status=bogus").status_code == 400

    again = client.post(f"/staff/digests/{digest_id}/send", data=values, follow_redirects=True)
    assert "This digest is sent already." in again.get_data(as_text=True)
    assert len(outbox.received) == 12


def test_double_click_starts_once(app, client, editor, add_subscribers, digest_id):
    add_subscribers(5)
    values = form_values(client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True))
    first = client.post(f"/staff/digests/{digest_id}/send", data=values)
    second = client.post(f"/staff/digests/{digest_id}/send", data=values, follow_redirects=True)
    assert first.status_code == 302
    assert "sending already" in second.get_data(as_text=True)
    assert client.get(f"/staff/digests/{digest_id}/progress.json").get_json()["total"] == 5


def test_pause_resume_cancel_buttons(app, client, editor, add_subscribers, digest_id, outbox):
    add_subscribers(6)
    values = form_values(client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True))
    client.post(f"/staff/digests/{digest_id}/send", data=values)
    client.post(f"/staff/digests/{digest_id}/pause", data=values)
    figures = client.get(f"/staff/digests/{digest_id}/progress.json").get_json()
    assert figures["status"] == "paused"
    assert figures["pause_reason"] == "paused by staff"
    execution.work_on(app, digest_id)
    assert outbox.received == []  # a paused send sends nothing

    resumed = client.post(f"/staff/digests/{digest_id}/resume", data=values, follow_redirects=True)
    assert "Resumed." in resumed.get_data(as_text=True)
    cancelled = client.post(
        f"/staff/digests/{digest_id}/cancel", data=values, follow_redirects=True
    )
    assert "Cancelled" in cancelled.get_data(as_text=True)
    execution.work_on(app, digest_id)
    assert outbox.received == []
    refused = client.post(f"/staff/digests/{digest_id}/resume", data=values, follow_redirects=True)
    assert "only a paused send can resume" in refused.get_data(as_text=True)


def test_schedule_from_the_staff_pages(app, client, editor, add_subscribers, digest_id):
    add_subscribers(2)
    values = form_values(
        client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True), having="when"
    )
    values["when"] = "2000-01-01T09:00"
    past = client.post(f"/staff/digests/{digest_id}/schedule", data=values, follow_redirects=True)
    assert "Choose a time in the future" in past.get_data(as_text=True)
    values["when"] = "not a date"
    assert "Give a date and a time" in client.post(
        f"/staff/digests/{digest_id}/schedule", data=values, follow_redirects=True
    ).get_data(as_text=True)
    values["when"] = "2999-01-01T09:00"
    client.post(f"/staff/digests/{digest_id}/schedule", data=values)
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        assert digest.status == DigestStatus.SCHEDULED
        assert digest.scheduled_at.year == 2999
    client.post(f"/staff/digests/{digest_id}/unschedule", data=values)
    with app.app_context():
        assert db.session.get(Digest, digest_id).status == DigestStatus.DRAFT


@pytest.mark.app_config(SEND_BACKGROUND=True)
def test_embedded_mode_sends_in_a_background_thread(
    app, client, editor, add_subscribers, digest_id, outbox
):
    readers = add_subscribers(8)
    values = form_values(client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True))
    client.post(f"/staff/digests/{digest_id}/send", data=values)
    wait_until(
        lambda: (
            client.get(f"/staff/digests/{digest_id}/progress.json").get_json()["status"] == "sent"
        ),
        message="the background send never finished",
    )
    assert sorted(m.to for m in outbox.received) == sorted(readers)
    assert any(thread.name == "send-ticker" for thread in threading.enumerate())
