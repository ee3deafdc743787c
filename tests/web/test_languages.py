"""A reader in Dari from the form to leaving, through the HTTP layer and a real SMTP
server; the switcher; languages chosen on the command line and in a CSV file."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber, SubscriberStatus
from tests.conftest import find_link, form_values, local
from tests.subscriptions.helpers import html_of, text_of

DARI = {"HTTP_ACCEPT_LANGUAGE": "fa-AF,fa;q=0.9,en;q=0.5"}


@pytest.fixture(autouse=True)
def _lists(make_list):
    make_list("digest", "Dialogue digest", default=True)


def _page_language(html: str) -> tuple[str, str]:
    match = re.search(r'<html lang="([^"]+)" dir="([^"]+)"', html)
    assert match, html[:200]
    return match.group(1), match.group(2)


def _subscriber(app, email: str) -> Subscriber:
    with app.app_context():
        found = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == email))
        assert found is not None
        db.session.expunge(found)
        return found


def test_a_dari_reader_subscribes_confirms_reads_and_leaves_in_dari(app, client, outbox):
    form = client.get("/subscribe", environ_base=DARI)
    html = form.get_data(as_text=True)
    assert _page_language(html) == ("fa-AF", "rtl")
    assert "اشتراک در" in html  # "Subscribe to …"
    values = form_values(html)
    assert values["language"] == "fa-AF"  # pre-selected from Accept-Language
    values.pop("website", None)
    values["email"] = "dari.reader@example.org"
    values["name"] = "مریم احمدی"
    sent = client.post("/subscribe", data=values, environ_base=DARI)
    assert sent.status_code == 302
    assert (
        _page_language(client.get(sent.location, environ_base=DARI).get_data(as_text=True))[1]
        == "rtl"
    )
    assert _subscriber(app, "dari.reader@example.org").language == "fa-AF"

    confirmation = outbox.wait_for(1)[-1]
    message = confirmation.message
    assert message["Content-Language"] == "fa-AF"
    assert str(message["Subject"]).startswith("لطفاً اشتراک خود در")
    assert '<html lang="fa-AF" dir="rtl"' in html_of(confirmation)
    assert 'dir="rtl"' in html_of(confirmation).split("<body", 1)[1][:40]
    assert "لطفاً اشتراک خود را تأیید کنید" in text_of(confirmation)
    assert "Please confirm" not in text_of(confirmation)

    # The link's page speaks the reader's language, whatever the browser sends.
    link = local(find_link(text_of(confirmation), "/confirm/"))
    page = client.get(link, environ_base={"HTTP_ACCEPT_LANGUAGE": "en"})
    assert _page_language(page.get_data(as_text=True)) == ("fa-AF", "rtl")
    done = client.post(link, data=form_values(page.get_data(as_text=True)))
    assert "سپاس، شما مشترک شدید" in done.get_data(as_text=True)

    welcome = outbox.wait_for(2)[-1]
    assert welcome.message["Content-Language"] == "fa-AF"
    assert "به Dialogue Digest خوش آمدید" in text_of(welcome)
    assert '<html lang="fa-AF" dir="rtl"' in html_of(welcome)
    assert "text-align: right" in html_of(welcome)  # the mirrored layout

    preferences = local(find_link(text_of(welcome), "/preferences/"))
    page = client.get(preferences)
    html = page.get_data(as_text=True)
    assert _page_language(html) == ("fa-AF", "rtl")
    assert "ترجیحات شما" in html
    assert 'dir="auto"' in html  # free-text fields follow what is typed
    values = form_values(html)
    assert values["name"] == "مریم احمدی"
    values["language"] = "ps"
    saved = client.post(preferences, data=values)
    assert saved.status_code == 302
    after = client.get(preferences).get_data(as_text=True)
    assert _page_language(after) == ("ps", "rtl")
    assert "ستاسو خوښې خوندي شوې" in after  # saved, said in the new language
    values["language"] = "fa-AF"
    client.post(preferences, data=values)

    unsubscribe = local(find_link(text_of(welcome), "/unsubscribe/"))
    page = client.get(unsubscribe)
    assert _page_language(page.get_data(as_text=True)) == ("fa-AF", "rtl")
    assert page.get_data(as_text=True).count("<button") == 1
    left = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert left.status_code == 200
    assert "اشتراک شما لغو شد" in left.get_data(as_text=True)
    assert _subscriber(app, "dari.reader@example.org").status == SubscriberStatus.UNSUBSCRIBED


def test_the_switcher_keeps_the_language_in_a_cookie(client):
    english = client.get("/archive/", environ_base=DARI, follow_redirects=True)
    assert _page_language(english.get_data(as_text=True))[0] == "fa-AF"
    chosen = client.get("/language/ps?next=/subscribe")
    assert chosen.status_code == 302
    assert chosen.location.endswith("/subscribe")
    assert "lang=ps" in chosen.headers["Set-Cookie"]
    page = client.get("/subscribe", environ_base=DARI).get_data(as_text=True)
    assert _page_language(page) == ("ps", "rtl")
    assert '<option selected value="ps">' in page
    back = client.get("/language/en?next=//evil.example.org/")
    assert back.location.endswith("/")  # never an open redirect
    assert "evil" not in back.location
    assert client.get("/language/xx").status_code == 404


def test_english_pages_stay_left_to_right(client):
    page = client.get("/subscribe", environ_base={"HTTP_ACCEPT_LANGUAGE": "en-GB,en"})
    assert _page_language(page.get_data(as_text=True)) == ("en", "ltr")


def test_an_unknown_language_on_the_form_is_refused(client):
    values = form_values(client.get("/subscribe").get_data(as_text=True))
    values.pop("website", None)
    values.update(email="someone@example.org", language="de")
    refused = client.post("/subscribe", data=values)
    assert refused.status_code == 400
    assert "Not a valid choice" in refused.get_data(as_text=True)


def test_cli_add_with_a_language(app, runner):
    result = runner.invoke(args=["subscribers", "add", "cli@example.org", "--language", "fa-AF"])
    assert result.exit_code == 0, result.output
    assert _subscriber(app, "cli@example.org").language == "fa-AF"
    result = runner.invoke(args=["subscribers", "add", "x@example.org", "--language", "klingon"])
    assert result.exit_code == 1
    assert "Unknown language 'klingon': choose one of en, fa-AF, ps." in result.output


def test_csv_import_reads_an_optional_language_column(app, runner, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text(
        "email,name,language\n"
        "dari@example.org,مریم,fa-AF\n"
        "pashto@example.org,Gul,PS\n"
        "none@example.org,Ann,\n"
        "bad@example.org,Bad,xx\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        args=["subscribers", "import", str(source), "--consent-note", "met at the 2024 forum"]
    )
    assert result.exit_code == 0, result.output
    assert "line 5: Unknown language 'xx'" in result.output
    assert _subscriber(app, "dari@example.org").language == "fa-AF"
    assert _subscriber(app, "pashto@example.org").language == "ps"
    assert _subscriber(app, "none@example.org").language == ""


def test_staff_choose_their_interface_language(app, client, staff_login):
    email = staff_login()
    page = client.get("/staff/account").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page
    values = form_values(page, having="language")
    values["language"] = "fa-AF"
    saved = client.post("/staff/account/language", data=values)
    assert saved.status_code == 302
    after = client.get("/staff/account").get_data(as_text=True)
    assert '<html lang="fa-AF" dir="rtl">' in after
    assert '<option selected value="fa-AF">' in after
    with app.app_context():
        from newsletter.auth.models import StaffUser

        assert (
            db.session.scalar(sa.select(StaffUser.language).where(StaffUser.email_key == email))
            == "fa-AF"
        )
    values["language"] = "klingon"
    assert client.post("/staff/account/language", data=values).status_code == 400
    # The public switcher does not change staff pages, nor staff pages the public ones.
    client.get("/language/ps?next=/")
    assert '<html lang="fa-AF"' in client.get("/staff/account").get_data(as_text=True)


def _staff_speaks(app, email: str, tag: str) -> None:
    with app.app_context():
        from newsletter.auth.models import StaffUser

        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email_key == email))
        user.language = tag
        db.session.commit()


def test_a_dari_staff_member_sees_dari_on_the_home_and_a_subscriber_page(
    app, client, staff_login, runner
):
    email = staff_login("admin@example.org", "admin")
    assert runner.invoke(args=["subscribers", "add", "reader@example.org"]).exit_code == 0
    english = client.get("/staff/").get_data(as_text=True)
    assert "Latest digests" in english
    _staff_speaks(app, email, "fa-AF")

    home = client.get("/staff/").get_data(as_text=True)
    assert _page_language(home) == ("fa-AF", "rtl")
    assert "تازه‌ترین خبرنامه‌ها" in home  # "Latest digests"
    assert ">مشترکان</a>" in home  # the menu's "Subscribers"
    assert "Latest digests" not in home
    assert "Log out" not in home

    listing = client.get("/staff/subscribers").get_data(as_text=True)
    assert "یافتن مشترکان" in listing  # "Find subscribers"
    subscriber_id = re.search(r'href="/staff/subscribers/(\d+)"', listing).group(1)
    page = client.get(f"/staff/subscribers/{subscriber_id}").get_data(as_text=True)
    assert _page_language(page) == ("fa-AF", "rtl")
    assert "تاریخچهٔ رضایت" in page  # "Consent history"
    assert 'class="tag status-active">فعال</span>' in page  # the status label "Active"
    assert "Consent history" not in page
    # A flash message after a change is in Dari too, and the CLI stays English.
    token = staff_login.csrf_token("/staff/account")
    values = {"csrf_token": token, "language": "fa-AF"}
    followed = client.post("/staff/account/language", data=values, follow_redirects=True)
    assert "زبان رابط شما ذخیره شد." in followed.get_data(as_text=True)
    refused = runner.invoke(args=["subscribers", "add", "not an address"])
    assert "not a valid email address" in refused.output
