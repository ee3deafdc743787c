"""The newcomer's path in a real browser: subscribe, confirm from the outbox, leave."""

from __future__ import annotations

import re

import pytest

from tests.conftest import STAFF_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.app_config(MAIL_SERVER=None)]


def _open_newest_mail(page, live_server, subject: str) -> str:
    """Open the newest outbox message with ``subject``; return its text part. The outbox
    asks for a staff login first (the newcomer uses the demo admin's, as make run says)."""
    page.goto(f"{live_server.url}/outbox/")
    if "/staff/login" in page.url:
        page.get_by_label("Email").fill("admin@example.org")
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Outbox").wait_for()
    page.get_by_role("link", name=subject).first.click()
    return page.locator("pre.email-text").inner_text()


def test_subscribe_confirm_and_unsubscribe_in_the_browser(live_server, make_list, make_staff, page):
    make_list("digest", "Dialogue digest", default=True)
    make_staff("admin@example.org", "admin")
    make_list("events", "Event invitations")

    page.goto(live_server.url + "/")
    page.get_by_label("Email address").fill("browser.reader@example.org")
    page.get_by_label("Name (optional)").fill("Browser Reader")
    page.get_by_label("Event invitations").check()
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    text = _open_newest_mail(
        page, live_server, "Please confirm your subscription to Dialogue Digest"
    )
    assert "Dialogue digest, Event invitations" in text
    confirm_url = re.search(r"http://127\.0\.0\.1:\d+/confirm/\S+", text).group(0)
    # The HTML part is shown in a sandboxed frame with the same link.
    frame = page.frame_locator("iframe.email-frame")
    assert (
        frame.get_by_role("link", name="Confirm my subscription").get_attribute("href")
        == confirm_url
    )

    page.goto(confirm_url)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Thank you, you are subscribed").wait_for()

    text = _open_newest_mail(page, live_server, "Welcome to Dialogue Digest")
    unsubscribe_url = re.search(r"Unsubscribe: (\S+)", text).group(1)
    page.goto(unsubscribe_url)
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    page.get_by_role("button", name="Subscribe again").click()
    page.get_by_role("heading", name="Welcome back").wait_for()


def test_form_errors_are_shown_beside_the_field(live_server, make_list, page):
    make_list("digest", "Dialogue digest", default=True)
    page.goto(live_server.url + "/subscribe")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Subscribe").click()
    error = page.locator("#email-error")
    assert "not a valid email address" in error.inner_text()
    assert page.get_by_label("Email address").get_attribute("aria-invalid") == "true"
