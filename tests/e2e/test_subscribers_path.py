"""Staff in a real browser: find a subscriber, open their page, change their lists."""

from __future__ import annotations

import pytest

from tests.conftest import STAFF_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.app_config(MAIL_SERVER=None)]


def test_editor_finds_a_subscriber_and_changes_their_lists(
    live_server, make_list, make_staff, page
):
    from playwright.sync_api import expect

    from newsletter.extensions import db
    from newsletter.subscriptions.lists import list_by_slug
    from newsletter.subscriptions.roster import add_subscriber

    make_list("digest", "Dialogue digest", default=True)
    make_list("briefings", "Briefings", public=False)
    make_staff("editor@example.org", "editor")
    with live_server.app.app_context():
        for email, name in (("amina@example.org", "Amina Noor"), ("ben@example.org", "Ben Lo")):
            add_subscriber(email, name=name, lists=[list_by_slug("digest")], consent_note="t")
        db.session.commit()
    url = live_server.url
    page.goto(url + "/staff/login")
    page.get_by_label("Email").fill("editor@example.org")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome").wait_for()

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Subscribers").click()
    page.get_by_label("Address, name or organisation").fill("amina")
    page.get_by_role("button", name="Find").click()
    results = page.get_by_role("region", name="Subscribers found")
    expect(results.get_by_role("link")).to_have_count(1)
    results.get_by_role("link", name="amina@example.org").click()
    page.get_by_role("heading", name="amina@example.org").wait_for()
    expect(page.get_by_text("Amina Noor")).to_be_visible()

    page.get_by_label("Briefings").check()
    page.get_by_label("Dialogue digest").uncheck()
    page.get_by_role("button", name="Save the lists").click()
    expect(page.get_by_text("Lists saved.")).to_be_visible()
    expect(page.get_by_label("Briefings")).to_be_checked()
    expect(page.get_by_label("Dialogue digest")).not_to_be_checked()
    history = page.get_by_role("region", name="Consent history")
    expect(history.get_by_text("lists changed by staff (editor@example.org)")).to_be_visible()

    with live_server.app.app_context():
        from newsletter.subscriptions.services import subscriber_by_email, subscriber_lists

        lists = subscriber_lists(subscriber_by_email("amina@example.org"))
        assert [lst.slug for lst in lists] == ["briefings"]
