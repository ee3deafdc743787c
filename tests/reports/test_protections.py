"""The request form's protections (honeypot, limits, one answer for every history),
bad links and bad input: clear refusals, nothing half-written."""

from __future__ import annotations

import pytest

from newsletter.reports.models import RequestStatus
from newsletter.tokens import Purpose, make_token
from tests.conftest import form_values
from tests.reports.fixtures import requests_of, set_status
from tests.reports.helpers import ask, link_in, press_the_button
from tests.subscriptions.helpers import text_of


def test_the_honeypot_answers_as_usual_and_does_nothing(app, client, outbox, slug):
    response = ask(client, slug, "bot@example.org", website="http://spam.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "/reports/sent"
    assert requests_of(app) == []
    assert outbox.received == []


def test_nothing_typed_reaches_the_unverified_address(app, client, outbox, slug):
    ask(
        client,
        slug,
        "victim@example.org",
        name="Win a prize at http://evil.example",
        affiliation="Bank <b>security</b>",
        purpose="Call +1 555 0100 now",
    )
    (verification,) = outbox.wait_for(1)
    raw = verification.data.decode()
    for typed in ("prize", "evil.example", "security", "555 0100"):
        assert typed not in raw
    assert verification.message["To"] == "victim@example.org"
    assert text_of(verification).startswith("Please verify your address\r\n\r\nHello,\r\n")


def test_one_answer_whatever_the_history(app, client, outbox, slug, staff_login):
    answers = [ask(client, slug, "new@example.org")]
    # Pending (verified, waiting), asked again: same answer, nothing sent.
    press_the_button(client, link_in(outbox.wait_for(1)[0], "/reports/verify/"))
    sent = len(outbox.received)
    answers.append(ask(client, slug, "new@example.org"))
    assert len(outbox.received) == sent
    # Approved before: same answer again.
    staff_login()
    token = staff_login.csrf_token()
    client.post(f"/staff/reports/{requests_of(app)[0].id}/approve", data={"csrf_token": token})
    answers.append(ask(client, slug, "new@example.org"))
    assert {(a.status_code, a.headers["Location"]) for a in answers} == {(302, "/reports/sent")}


def test_a_double_submission_makes_one_request_and_one_email(app, client, outbox, slug):
    ask(client, slug, "reader@example.org")
    ask(client, slug, "Reader@Example.org ", purpose="Corrected purpose.")
    (only,) = requests_of(app)
    assert only.purpose == "Corrected purpose."
    assert len(outbox.wait_for(1)) == 1


@pytest.mark.app_config(REPORT_REQUEST_LIMIT_PER_ADDRESS="2 per hour")
def test_the_per_address_limit_counts_the_normalised_address(client, slug):
    codes = [
        ask(client, slug, address).status_code
        for address in ("reader@example.org", "READER@example.org", " Reader@EXAMPLE.org")
    ]
    assert codes == [302, 302, 429]


@pytest.mark.app_config(REPORT_REQUEST_LIMIT_PER_IP="2 per minute")
def test_the_per_ip_limit(client, slug):
    codes = [ask(client, slug, f"r{n}@example.org").status_code for n in range(3)]
    assert codes == [302, 302, 429]


def test_bad_input_gets_a_message_beside_the_field(app, client, outbox, slug):
    cases = {
        "email": ("not an address", "not a valid email address"),
        "name": ("", "Please give your name."),
        "purpose": ("", "Please say what you would use the report for."),
    }
    for field, (value, message) in cases.items():
        fields = {"email": "reader@example.org", field: value}
        response = ask(client, slug, fields.pop("email"), **fields)
        assert response.status_code == 400, field
        assert message in response.get_data(as_text=True), field
    header = ask(client, slug, "reader@example.org", name="Ada\r\nBcc: x@example.org")
    assert header.status_code == 400
    assert requests_of(app) == []
    assert outbox.received == []


def test_sessions_without_a_report_or_unpublished_have_no_form(client, make_session):
    no_report = make_session("No report here", report=False)
    draft = make_session("Not published", published=False)
    for slug in (no_report, draft, "no-such-session"):
        assert client.get(f"/sessions/{slug}/report").status_code == 404
        assert client.post(f"/sessions/{slug}/report", data={}).status_code in (400, 404)
    assert "Request the detailed report" not in client.get(f"/sessions/{no_report}").get_data(
        as_text=True
    )


def test_tampered_and_misused_links(app, client, outbox, slug):
    ask(client, slug, "reader@example.org")
    link = link_in(outbox.wait_for(1)[0], "/reports/verify/")
    token = link.rsplit("/", 1)[1]
    assert client.get(link[:-2] + "xx").status_code == 400
    # A token made for another purpose does not work here (each purpose has its salt).
    public_id = requests_of(app)[0].public_id.hex
    with app.app_context():
        confirm_token = make_token(Purpose.CONFIRM, public_id)
        download_token = make_token(Purpose.REPORT_DOWNLOAD, public_id)
    assert client.get(f"/reports/verify/{confirm_token}").status_code == 400
    assert client.get(f"/reports/download/{token}").status_code == 400
    assert client.get(f"/reports/download/{download_token}").status_code == 410
    assert requests_of(app)[0].status == RequestStatus.UNVERIFIED


@pytest.mark.app_config(CONFIRM_TOKEN_MAX_AGE_HOURS=0)
def test_an_expired_verification_link_offers_to_ask_again(app, client, outbox, slug):
    import time

    ask(client, slug, "reader@example.org")
    link = link_in(outbox.wait_for(1)[0], "/reports/verify/")
    time.sleep(1.1)  # itsdangerous counts whole seconds
    page = client.get(link)
    assert page.status_code == 400
    assert "This link has expired" in page.get_data(as_text=True)
    assert f"/sessions/{slug}/report" in page.get_data(as_text=True)
    assert requests_of(app)[0].status == RequestStatus.UNVERIFIED


def test_verifying_twice_is_harmless(app, client, outbox, slug, make_staff):
    make_staff()
    ask(client, slug, "reader@example.org")
    link = link_in(outbox.wait_for(1)[0], "/reports/verify/")
    button = form_values(client.get(link).get_data(as_text=True))
    assert client.post(link, data=button).status_code == 200
    sent = len(outbox.received)
    again = client.post(link, data=button)
    assert again.status_code == 200
    assert "Your address is verified" in client.get(link).get_data(as_text=True)
    assert len(outbox.received) == sent  # staff are not told twice
    assert requests_of(app)[0].status == RequestStatus.PENDING


def test_an_unverified_request_cannot_be_decided(app, client, outbox, slug, staff_login):
    ask(client, slug, "reader@example.org")
    staff_login()
    token = staff_login.csrf_token()
    request_id = requests_of(app)[0].id
    response = client.post(
        f"/staff/reports/{request_id}/approve", data={"csrf_token": token}, follow_redirects=True
    )
    assert "is not verified yet" in response.get_data(as_text=True)
    assert requests_of(app)[0].status == RequestStatus.UNVERIFIED
    set_status(app, request_id, status=RequestStatus.PENDING)
    long_note = client.post(
        f"/staff/reports/{request_id}/approve", data={"csrf_token": token, "note": "x" * 2001}
    )
    assert long_note.status_code == 400
    assert requests_of(app)[0].status == RequestStatus.PENDING


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admins_both_decide(app, client, outbox, slug, staff_login, role):
    ask(client, slug, "reader@example.org")
    press_the_button(client, link_in(outbox.wait_for(1)[0], "/reports/verify/"))
    staff_login(f"{role}@example.org", role)
    token = staff_login.csrf_token("/staff/reports")
    request_id = requests_of(app)[0].id
    assert (
        client.post(f"/staff/reports/{request_id}/approve", data={"csrf_token": token}).status_code
        == 302
    )
    assert requests_of(app)[0].status == RequestStatus.APPROVED


def test_no_report_file_without_a_valid_link(app, client, slug):
    """The file is served by nothing but a granted link: not by a guessable URL, a
    static path, or the staff pages."""
    import sqlalchemy as sa

    from newsletter.extensions import db
    from newsletter.reports.models import ReportVersion

    with app.app_context():
        stored = db.session.scalar(sa.select(ReportVersion.stored_name))
    for path in (
        f"/static/{stored}",
        f"/static/reports/{stored}",
        f"/reports/{stored}",
        "/reports/download/",
        "/reports/download/x",
    ):
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert b"%PDF" not in response.data
