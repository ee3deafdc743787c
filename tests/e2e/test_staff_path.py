"""An editor's path in a real browser: log in, import the sample summary, compose a
digest from points of two sessions, reorder, preview, send a test, find it in the outbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import STAFF_PASSWORD

SAMPLE = Path(__file__).resolve().parents[2] / "newsletter/demo/has-track2-session-2020-06-08.txt"

pytestmark = [pytest.mark.browser, pytest.mark.app_config(MAIL_SERVER=None)]


def test_editor_composes_previews_and_tests_a_digest(live_server, make_list, make_staff, page):
    from playwright.sync_api import expect

    make_list("digest", "Dialogue digest", default=True)
    make_staff("editor@example.org", "editor")
    url = live_server.url

    page.goto(url + "/staff/digests")
    page.get_by_label("Email").fill("editor@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Digests").wait_for()  # back where we were going

    # Import the sample summary.
    page.get_by_role("link", name="Sessions").click()
    page.get_by_role("link", name="Import a summary").click()
    page.get_by_label("Summary text").fill(SAMPLE.read_text(encoding="utf-8"))
    page.get_by_role("button", name="Read the text").click()
    page.get_by_text("15 summary point(s) found").wait_for()
    assert page.get_by_label("Date").input_value() == "2020-06-08"
    page.get_by_role("button", name="Save the session and its points").click()
    page.get_by_text("Imported the session with 15 points.").wait_for()

    # A second session, typed in.
    page.get_by_role("link", name="Sessions").click()
    page.get_by_role("link", name="New session").click()
    page.get_by_label("Series").fill("HAS Track 2 Dialogue Series")
    page.get_by_label("Title").fill("Regional Connectivity and Trade")
    page.get_by_label("Session number").fill("3")
    page.get_by_label("Date").fill("2020-09-14")
    page.get_by_role("button", name="Save the session").click()
    page.get_by_label("Point", exact=True).fill("Trade corridors need security guarantees.")
    page.get_by_role("button", name="Add the point").click()
    page.get_by_role("button", name="Save point 1").wait_for()

    # Compose from both sessions.
    page.get_by_role("link", name="Digests").click()
    page.get_by_label("Subject").fill("June digest")
    page.get_by_role("button", name="Create the draft").click()
    for title in ("Regional Connectivity and Trade", "Political Agreement in Kabul"):
        section = page.locator("details", has_text=title)
        if section.get_attribute("open") is None:
            section.locator("summary").click()
    page.get_by_label("In Afghanistan there is broad consensus").check()
    page.get_by_label("Constitutional changes are not to be considered a taboo").check()
    page.get_by_label("Trade corridors need security guarantees.").check()
    page.get_by_role("button", name="Add the ticked points").click()
    page.get_by_text("Added 3 point(s).").wait_for()

    items = page.locator("ol.items textarea")
    assert items.nth(0).input_value() == "Trade corridors need security guarantees."
    page.get_by_role("button", name="Move item 1 down").click()
    # The page comes back in the new order: wait for it (the old page has the same
    # button, so waiting for the button could read the old order).
    expect(items.nth(0)).to_have_value(re.compile(r"^In Afghanistan there is broad consensus"))
    expect(items.nth(1)).to_have_value("Trade corridors need security guarantees.")

    # Preview the real email, then test it.
    page.get_by_role("link", name="Preview").click()
    text = page.locator("pre.email-text").inner_text()
    assert text.index("SESSION 2 · 8 JUNE 2020") < text.index("SESSION 3 · 14 SEPTEMBER 2020")
    frame = page.frame_locator("iframe.email-frame")
    frame.get_by_text("Trade corridors need security guarantees.").wait_for()
    page.get_by_role("button", name="Send a test to me").click()
    page.get_by_text("A test copy is on its way to editor@example.org.").wait_for()

    page.get_by_role("link", name="Outbox").click()
    page.get_by_role("link", name="June digest").click()
    assert "editor@example.org" in page.locator("dl.headers").inner_text()
    assert "SESSION 3 · 14 SEPTEMBER 2020" in page.locator("pre.email-text").inner_text()


def test_progress_updates_live_without_reloading(live_server, make_list, make_staff, page):
    from playwright.sync_api import expect

    from newsletter.delivery import execution
    from newsletter.digests import services as digests
    from newsletter.extensions import db
    from newsletter.sessions import services as sessions
    from newsletter.subscriptions.lists import default_lists
    from newsletter.subscriptions.roster import add_subscriber

    make_list("digest", "Dialogue digest", default=True)
    make_staff("editor@example.org", "editor")
    app = live_server.app
    with app.app_context():
        session = sessions.create_session(
            sessions.SessionData(series_name="Series", title="A session"), ["One point."]
        )
        digest_id = digests.create_from_session(session).id
        for n in range(5):
            add_subscriber(f"r{n}@example.org", lists=default_lists(), consent_note="test")
        db.session.commit()

    url = live_server.url
    page.goto(f"{url}/staff/digests/{digest_id}/send")
    page.get_by_label("Email").fill("editor@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Send now to 5 people").click()
    sent = page.locator('[data-field="sent"]')
    expect(sent).to_have_text("0")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()

    execution.work_on(app, digest_id)  # a worker elsewhere does the sending
    expect(sent).to_have_text("5", timeout=10_000)
    expect(page.locator('[data-field="status"]')).to_have_text("sent")
    expect(page.get_by_role("button", name="Pause")).to_be_hidden()
    page.get_by_role("link", name="Delivery log").click()
    expect(page.locator("td.answer", has_text="250 stored in outbox")).to_have_count(5)
