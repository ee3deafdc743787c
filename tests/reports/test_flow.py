"""The whole path through the HTTP layer and a real SMTP server: ask, verify, decide,
download; expiry, revocation, decline, the automatic rules, asking again."""

from __future__ import annotations

import pytest

from newsletter.reports.models import ApprovalRule, RequestStatus
from tests.conftest import form_values
from tests.reports.fixtures import actions, events_of, expire_grants, requests_of
from tests.reports.helpers import PDF, ask, link_in, press_the_button
from tests.subscriptions.helpers import html_of, text_of

UA = {"REMOTE_ADDR": "203.0.113.9"}


def _verify(client, outbox, before: int = 0):
    """Open the newest verification email and press its button; return the answer."""
    verification = outbox.wait_for(before + 1)[before]
    return press_the_button(client, link_in(verification, "/reports/verify/"))


def _approve(client, staff_login, request_id: int, note: str = ""):
    token = staff_login.csrf_token("/staff/reports")
    return client.post(
        f"/staff/reports/{request_id}/approve", data={"csrf_token": token, "note": note}
    )


def test_request_verify_approve_download(app, client, outbox, slug, staff_login, make_staff):
    make_staff("admin@example.org", "admin")
    session_page = client.get(f"/sessions/{slug}").get_data(as_text=True)
    assert "Request the detailed report" in session_page

    response = ask(client, slug, "Reader@Example.ORG", environ_base=UA)
    assert response.status_code == 302
    assert response.headers["Location"] == "/reports/sent"
    (verification,) = outbox.wait_for(1)
    assert verification.rcpt_tos == ["Reader@example.org"]
    assert verification.message["To"] == "Reader@example.org"  # no name before verification
    assert "Political agreement in Kabul" in text_of(verification)
    assert "Ada Reader" not in verification.data.decode()
    link = link_in(verification, "/reports/verify/")
    assert link in html_of(verification).replace("https://news.example.org", "")

    # The GET shows a button and changes nothing (mail scanners fetch links).
    page = client.get(link)
    assert page.status_code == 200
    assert "Verify my address</button>" in page.get_data(as_text=True)
    assert requests_of(app)[0].status == RequestStatus.UNVERIFIED
    assert len(outbox.received) == 1

    verified = press_the_button(client, link)
    assert verified.status_code == 200
    assert "is with our staff" in verified.get_data(as_text=True)
    (found,) = requests_of(app)
    assert found.status == RequestStatus.PENDING
    # Staff are told (REPORT_NOTIFY defaults to every active staff account).
    notice = outbox.wait_for(2)[1]
    assert notice.rcpt_tos == ["admin@example.org"]
    assert "Ada Reader" in text_of(notice)
    assert "Research on the peace process." in text_of(notice)
    assert f"/staff/reports/{found.id}" in text_of(notice)

    # The editor sees it in the queue and approves with a note.
    staff_login()
    queue = client.get("/staff/reports").get_data(as_text=True)
    assert "Ada Reader" in queue
    assert "Institute of Studies" in queue
    approved = _approve(client, staff_login, found.id, "Please cite it as a draft.")
    assert approved.status_code == 302
    assert requests_of(app)[0].status == RequestStatus.APPROVED
    letter = outbox.wait_for(3)[2]
    assert letter.message["To"] == "Ada Reader <Reader@example.org>"
    assert "Please cite it as a draft." in text_of(letter)
    download_link = link_in(letter, "/reports/download/")

    # The download page does not count as a download; the button does.
    reader = app.test_client()
    page = reader.get(download_link)
    assert page.status_code == 200
    assert "PDF" in page.get_data(as_text=True)
    assert "downloaded" not in actions(app)
    got = press_the_button(reader, download_link, environ_base={"REMOTE_ADDR": "198.51.100.2"})
    assert got.status_code == 200
    assert got.data == PDF
    got.close()
    assert got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"] == (
        "attachment; filename=2020-06-08-political-agreement-in-kabul.pdf"
    )
    assert "no-store" in got.headers["Cache-Control"]
    downloaded = [event for event in events_of(app) if event.action.value == "downloaded"]
    assert len(downloaded) == 1
    assert downloaded[0].ip == "198.51.100.2"
    assert downloaded[0].version_id is not None
    assert actions(app) == ["requested", "verified", "approved", "link sent", "downloaded"]
    requested_event = events_of(app)[1]  # after the upload's
    assert (requested_event.actor_kind.value, requested_event.ip) == ("requester", "203.0.113.9")
    approved_event = events_of(app)[3]
    assert (approved_event.actor_kind.value, approved_event.actor_label) == (
        "staff",
        "editor@example.org",
    )

    # The request's page shows the record.
    detail = client.get(f"/staff/reports/{found.id}").get_data(as_text=True)
    for word in ("requested", "verified", "approved", "link sent", "downloaded", "198.51.100.2"):
        assert word in detail


def _approved_link(app, client, outbox, slug, staff_login) -> tuple[int, str]:
    ask(client, slug, "reader@example.org")
    _verify(client, outbox)
    (found,) = requests_of(app)
    staff_login()
    assert _approve(client, staff_login, found.id).status_code == 302
    letter = outbox.received[-1]
    return found.id, link_in(letter, "/reports/download/")


def test_an_expired_link_gives_nothing(app, client, outbox, slug, staff_login):
    _, link = _approved_link(app, client, outbox, slug, staff_login)
    button = form_values(client.get(link).get_data(as_text=True))
    expire_grants(app)
    page = client.get(link)
    assert page.status_code == 410
    assert "has expired" in page.get_data(as_text=True)
    assert f"/sessions/{slug}/report" in page.get_data(as_text=True)
    assert client.post(link, data=button).status_code == 410  # the page was open before
    assert "downloaded" not in actions(app)


def test_revoking_stops_the_link_at_once(app, client, outbox, slug, staff_login):
    request_id, link = _approved_link(app, client, outbox, slug, staff_login)
    reader = app.test_client()
    assert reader.get(link).status_code == 200
    token = staff_login.csrf_token(f"/staff/reports/{request_id}")
    revoked = client.post(f"/staff/reports/{request_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302
    assert requests_of(app)[0].status == RequestStatus.REVOKED
    page = reader.get(link)
    assert page.status_code == 410
    assert "no longer valid" in page.get_data(as_text=True)
    assert "revoked" in actions(app)


def test_decline_sends_a_polite_note(app, client, outbox, slug, staff_login):
    ask(client, slug, "reader@example.org")
    _verify(client, outbox)
    (found,) = requests_of(app)
    staff_login()
    token = staff_login.csrf_token("/staff/reports")
    declined = client.post(
        f"/staff/reports/{found.id}/decline",
        data={"csrf_token": token, "note": "The report is for participants only."},
    )
    assert declined.status_code == 302
    letter = outbox.received[-1]
    assert letter.message["Subject"].startswith("Your request for the detailed report")
    assert "sorry" in text_of(letter)
    assert "The report is for participants only." in text_of(letter)
    assert "/reports/download/" not in text_of(letter)
    assert requests_of(app)[0].status == RequestStatus.DECLINED
    # Declining again, or approving twice, is refused with a reason.
    again = client.post(
        f"/staff/reports/{found.id}/decline", data={"csrf_token": token}, follow_redirects=True
    )
    assert "cannot be declined: it was declined" in again.get_data(as_text=True)


def test_a_second_approval_is_refused(app, client, outbox, slug, staff_login):
    request_id, _ = _approved_link(app, client, outbox, slug, staff_login)
    sent = len(outbox.received)
    again = _approve(client, staff_login, request_id)
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert f"Request #{request_id} cannot be approved: it was approved" in page
    assert len(outbox.received) == sent
    assert actions(app).count("approved") == 1


@pytest.mark.parametrize(
    ("rule", "domains", "email", "approved"),
    [
        (ApprovalRule.ANYONE, "", "someone@example.net", True),
        (ApprovalRule.DOMAINS, "example.org\nun.int", "ada@example.org", True),
        (ApprovalRule.DOMAINS, "example.org", "ada@dept.example.org", True),
        (ApprovalRule.DOMAINS, "example.org", "ada@notexample.org", False),
        (ApprovalRule.STAFF, "", "ada@example.org", False),
    ],
)
def test_automatic_rules(app, client, outbox, make_session, rule, domains, email, approved):
    slug = make_session(rule=rule, domains=domains)
    ask(client, slug, email)
    answer = _verify(client, outbox).get_data(as_text=True)
    (found,) = requests_of(app)
    if approved:
        assert found.status == RequestStatus.APPROVED
        assert "Your request is approved" in answer
        letter = outbox.received[-1]
        assert letter.rcpt_tos == [email]
        assert "/reports/download/" in text_of(letter)
        approval = next(e for e in events_of(app) if e.action.value == "approved")
        assert approval.actor_kind.value == "rule"
    else:
        assert found.status == RequestStatus.PENDING
        assert "is with our staff" in answer


def test_asking_again_after_approval_gives_a_fresh_link(app, client, outbox, slug, staff_login):
    _, first_link = _approved_link(app, client, outbox, slug, staff_login)
    before = len(outbox.received)
    ask(client, slug, "READER@example.org")
    _verify(client, outbox, before)
    _, second = requests_of(app)
    assert second.status == RequestStatus.APPROVED
    fresh = link_in(outbox.received[-1], "/reports/download/")
    assert fresh != first_link
    got = press_the_button(client, fresh)
    assert got.data == PDF
    got.close()
    reissue = [
        e for e in events_of(app) if e.request_id == second.id and e.action.value == "approved"
    ]
    assert reissue[0].actor_kind.value == "rule"


@pytest.mark.app_config(REPORT_REISSUE_WITHOUT_DECISION=False)
def test_asking_again_goes_to_staff_when_the_setting_is_off(app, client, outbox, slug, staff_login):
    _approved_link(app, client, outbox, slug, staff_login)
    before = len(outbox.received)
    ask(client, slug, "reader@example.org")
    _verify(client, outbox, before)
    assert requests_of(app)[1].status == RequestStatus.PENDING


def test_someone_revoked_goes_to_staff_even_under_a_rule(
    app, client, outbox, make_session, staff_login
):
    slug = make_session(rule=ApprovalRule.ANYONE)
    ask(client, slug, "reader@example.org")
    _verify(client, outbox)
    (found,) = requests_of(app)
    assert found.status == RequestStatus.APPROVED
    staff_login()
    token = staff_login.csrf_token()
    client.post(f"/staff/reports/{found.id}/revoke", data={"csrf_token": token})
    before = len(outbox.received)
    ask(client, slug, "reader@example.org")
    _verify(client, outbox, before)
    assert requests_of(app)[1].status == RequestStatus.PENDING


def test_the_newsletter_box_goes_through_double_opt_in(app, client, outbox, slug, make_list):
    from newsletter.subscriptions.models import SubscriberStatus
    from tests.subscriptions.helpers import confirm, confirm_link
    from tests.web.test_subscribe import _subscriber

    make_list("digest", "Dialogue digest", default=True)
    ask(client, slug, "reader@example.org", subscribe="y")
    received = outbox.wait_for(2)
    subjects = sorted(str(message.message["Subject"]) for message in received)
    assert subjects[0].startswith("Please confirm your subscription")
    assert subjects[1].startswith("Please verify your address")
    assert _subscriber(app, "reader@example.org").status == SubscriberStatus.PENDING
    # Verifying the request does not subscribe anyone: only the confirmation does.
    verification = next(m for m in received if "verify" in str(m.message["Subject"]))
    press_the_button(client, link_in(verification, "/reports/verify/"))
    assert _subscriber(app, "reader@example.org").status == SubscriberStatus.PENDING
    confirmation = next(m for m in received if "confirm" in str(m.message["Subject"]))
    confirm(client, confirm_link(confirmation))
    assert _subscriber(app, "reader@example.org").status == SubscriberStatus.ACTIVE


def test_an_unticked_box_subscribes_no_one(app, client, outbox, slug, make_list):
    from tests.web.test_subscribe import _subscriber

    make_list("digest", "Dialogue digest", default=True)
    ask(client, slug, "reader@example.org")
    _verify(client, outbox)
    assert _subscriber(app, "reader@example.org") is None


@pytest.mark.parametrize(
    ("setting", "told"),
    [
        ("staff", ["admin@example.org", "editor@example.org"]),
        ("admins", ["admin@example.org"]),
        ("none", []),
        (["desk@example.org", "Boss@Example.org"], ["desk@example.org", "Boss@example.org"]),
        ("desk@example.org, boss@example.org", ["desk@example.org", "boss@example.org"]),
    ],
)
def test_who_is_told_of_a_verified_request(app, client, outbox, slug, make_staff, setting, told):
    """REPORT_NOTIFY: a word, a list (JSON in the environment), or addresses."""
    app.config["REPORT_NOTIFY"] = setting
    make_staff("admin@example.org", "admin")
    make_staff("editor@example.org", "editor")
    ask(client, slug, "reader@example.org")
    _verify(client, outbox)
    notices = outbox.received[1:]
    assert [notice.to for notice in notices] == told
    assert all("waits for a decision" in str(n.message["Subject"]) for n in notices)


def test_a_bad_notify_setting_stops_the_start(app_config):
    from newsletter import create_app

    with pytest.raises(RuntimeError, match="NEWSLETTER_REPORT_NOTIFY must be"):
        create_app({**app_config, "REPORT_NOTIFY": "staff and friends"})


DARI = {"REMOTE_ADDR": "203.0.113.9", "HTTP_ACCEPT_LANGUAGE": "fa-AF,fa;q=0.9,en;q=0.5"}


def _in_dari(received) -> None:
    assert received.message["Content-Language"] == "fa-AF"
    assert '<html lang="fa-AF" dir="rtl"' in html_of(received)


def test_a_dari_request_gets_its_mail_in_dari(app, client, outbox, slug, staff_login):
    """The page's language at request time is the request's: its verification, approval
    and decline come in it, whatever language the deciding staff member reads."""
    assert ask(client, slug, "dari.reader@example.org", environ_base=DARI).status_code == 302
    verification = outbox.wait_for(1)[0]
    _in_dari(verification)
    assert "آدرسم را تأیید کن" in html_of(verification)  # "Verify my address"
    assert str(verification.message["Subject"]).startswith("لطفاً آدرس خود را")
    assert requests_of(app)[0].language == "fa-AF"
    # An English request beside it stays English.
    ask(client, slug, "english.reader@example.org", environ_base={"REMOTE_ADDR": "203.0.113.10"})
    english = outbox.wait_for(2)[1]
    assert english.message["Content-Language"] == "en"

    press_the_button(client, link_in(verification, "/reports/verify/"))
    press_the_button(client, link_in(english, "/reports/verify/"))
    dari, other = sorted(
        requests_of(app), key=lambda found: found.email != "dari.reader@example.org"
    )
    assert dari.language == "fa-AF"
    assert other.language == "en"
    staff_login()
    assert _approve(client, staff_login, dari.id).status_code == 302
    letter = outbox.received[-1]
    assert letter.rcpt_tos == ["dari.reader@example.org"]
    _in_dari(letter)
    assert "درخواست شما تأیید شد" in html_of(letter)  # "Your request is approved"
    assert "۲۰" in text_of(letter)  # the expiry date in Afghan Persian digits

    ask(client, slug, "dari.second@example.org", environ_base=DARI)
    press_the_button(client, link_in(outbox.received[-1], "/reports/verify/"))
    (second,) = [found for found in requests_of(app) if found.email == "dari.second@example.org"]
    token = staff_login.csrf_token("/staff/reports")
    client.post(f"/staff/reports/{second.id}/decline", data={"csrf_token": token})
    declined = outbox.received[-1]
    assert declined.rcpt_tos == ["dari.second@example.org"]
    _in_dari(declined)
    assert not str(declined.message["Subject"]).startswith("Your request")
