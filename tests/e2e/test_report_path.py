"""Detailed reports in a real browser: staff upload the file, a reader asks for it and
verifies from the outbox, staff approve in the queue, the reader downloads it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import STAFF_PASSWORD
from tests.reports.helpers import PDF

pytestmark = [pytest.mark.browser, pytest.mark.app_config(MAIL_SERVER=None)]


def _newest_mail(page, url: str, subject: str) -> str:
    """The text of the newest mail with ``subject``, read in the outbox (which needs a
    staff login: ``page`` is the logged-in staff member's)."""
    page.goto(f"{url}/outbox/")
    page.get_by_role("link", name=subject).first.click()
    return page.locator("pre.email-text").inner_text()


def test_request_verify_approve_and_download(
    live_server, make_session, make_staff, page, browser, tmp_path: Path
):
    slug = make_session("Political agreement in Kabul", report=False)
    make_staff("editor@example.org", "editor")
    url = live_server.url

    # Staff upload the report from the session's page.
    staff = browser.new_context().new_page()
    staff.set_default_timeout(10_000)
    staff.goto(url + "/staff/sessions")
    staff.get_by_label("Email").fill("editor@example.org")
    staff.get_by_label("Password").fill(STAFF_PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    staff.get_by_role("link", name="Political agreement in Kabul").click()
    staff.get_by_role("link", name="Detailed report").click()
    report_file = tmp_path / "report.pdf"
    report_file.write_bytes(PDF)
    staff.get_by_label("Report file").set_input_files(str(report_file))
    staff.get_by_role("button", name="Upload").click()
    staff.get_by_text("Version 1 of the report is stored (PDF).").wait_for()

    # A reader asks for it on the session's page.
    page.goto(f"{url}/sessions/{slug}")
    page.get_by_role("link", name="Request the detailed report").click()
    page.get_by_label("Your name").fill("Browser Reader")
    page.get_by_label("Email address").fill("browser.reader@example.org")
    page.get_by_label("Affiliation (optional)").fill("Kabul University")
    page.get_by_label("Purpose of the request").fill("Teaching a course on negotiation.")
    page.get_by_role("button", name="Send my request").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    text = _newest_mail(staff, url, "Please verify your address for a report of Dialogue Digest")
    assert "Browser Reader" not in text
    verify_url = re.search(r"http://127\.0\.0\.1:\d+/reports/verify/\S+", text).group(0)
    page.goto(verify_url)
    page.get_by_role("button", name="Verify my address").click()
    page.get_by_role("heading", name="Thank you, your address is verified").wait_for()

    # Staff see it in the queue and approve it with a note.
    staff.goto(url + "/staff/")
    staff.get_by_role("link", name="Reports").click()
    row = staff.locator("tr", has_text="Browser Reader")
    assert "Kabul University" in row.inner_text()
    assert "Teaching a course on negotiation." in row.inner_text()
    row.get_by_label("Note to the requester (optional)").fill("Enjoy the course.")
    row.get_by_role("button", name=re.compile("^Approve")).click()
    staff.get_by_text("Approved: a download link is on its way").wait_for()
    staff.get_by_text("No request is waiting for a decision.").wait_for()

    # The reader downloads it from the link in the outbox.
    text = _newest_mail(
        staff, url, "Your copy of the detailed report: Political agreement in Kabul"
    )
    assert "Enjoy the course." in text
    download_url = re.search(r"http://127\.0\.0\.1:\d+/reports/download/\S+", text).group(0)
    page.goto(download_url)
    with page.expect_download() as started:
        page.get_by_role("button", name="Download the report").click()
    download = started.value
    assert download.suggested_filename == "2020-06-08-political-agreement-in-kabul.pdf"
    assert Path(download.path()).read_bytes() == PDF

    # The request's record shows every step.
    staff.goto(url + "/staff/reports?status=approved")
    staff.get_by_role("link", name="Browser Reader").click()
    record = staff.locator("section", has_text="Record").inner_text()
    for step in ("requested", "verified", "approved", "link sent", "downloaded"):
        assert step in record
    staff.context.close()


def test_request_form_errors_in_the_browser(live_server, make_session, page):
    slug = make_session()
    page.goto(f"{live_server.url}/sessions/{slug}/report")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Send my request").click()
    assert "Please give your name." in page.locator("#name-error").inner_text()
    assert page.get_by_label("Your name").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Also subscribe me to the newsletter").is_checked() is False
