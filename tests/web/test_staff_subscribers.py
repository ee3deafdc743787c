"""The subscribers' pages through the real HTTP layer: search, filters, sorting,
keyset pages, each action on a subscriber, adding one, the CSV export and its record,
one person's data, and who may do what."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions import roster
from newsletter.subscriptions.lists import list_by_slug
from newsletter.subscriptions.models import (
    ConsentEvent,
    Subscriber,
    SubscriberExport,
    SubscriberSource,
    SubscriberStatus,
)
from tests.subscriptions.helpers import subscribe, text_of


@pytest.fixture(autouse=True)
def _lists(make_list):
    make_list("digest", "Dialogue digest", default=True)
    make_list("briefings", "Briefings", public=False)


def _add(app, email, *, name="", organisation="", lists=("digest",), days_ago=0, note="test"):
    with app.app_context():
        outcome = roster.add_subscriber(
            email,
            name=name,
            organisation=organisation,
            lists=[list_by_slug(slug) for slug in lists],
            consent_note=note,
        )
        outcome.subscriber.created_at = datetime.now(UTC) - timedelta(days=days_ago)
        db.session.commit()
        return outcome.subscriber.id


def _addresses(html: str) -> list[str]:
    return re.findall(r'href="/staff/subscribers/\d+">([^<]+)</a>', html)


def _get(client, query: str = "") -> str:
    response = client.get(f"/staff/subscribers{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_search_by_prefix_and_substring(app, client, staff_login):
    _add(app, "ann.lee@example.org", name="Ann Lee", organisation="Harbour Institute")
    _add(app, "bob@sample.net", name="Robert Annan", organisation="Policy Forum")
    _add(app, "carol@example.org", name="Carol Diaz", organisation="Annex Lab")
    staff_login()
    # prefix: address, name or organisation start with it ("Annex Lab", not "Annan")
    assert sorted(_addresses(_get(client, "?q=ann"))) == [
        "ann.lee@example.org",
        "carol@example.org",
    ]
    assert sorted(_addresses(_get(client, "?q=harb"))) == ["ann.lee@example.org"]
    assert sorted(_addresses(_get(client, "?q=robert"))) == ["bob@sample.net"]
    # contains: anywhere, in any of them
    contains = _addresses(_get(client, "?q=annan&match=contains"))
    assert contains == ["bob@sample.net"]
    assert sorted(_addresses(_get(client, "?q=ann&match=contains"))) == [
        "ann.lee@example.org",
        "bob@sample.net",
        "carol@example.org",
    ]
    # the case of what is typed does not matter; LIKE's wildcards are literal
    assert _addresses(_get(client, "?q=CAROL")) == ["carol@example.org"]
    assert _addresses(_get(client, "?q=%25&match=contains")) == []
    assert _addresses(_get(client, "?q=_&match=contains")) == []


def test_filters_by_status_list_source_and_dates(app, client, staff_login):
    old = _add(app, "old@example.org", days_ago=40)
    _add(app, "private@example.org", lists=("briefings",), days_ago=10)
    recent = _add(app, "recent@example.org", days_ago=1)
    with app.app_context():
        roster_subscriber = db.session.get(Subscriber, recent)
        roster_subscriber.status = SubscriberStatus.UNSUBSCRIBED
        db.session.commit()
        briefings = list_by_slug("briefings").id
    subscribe(client, "form.person@example.org")
    staff_login()
    assert _addresses(_get(client, "?status=unsubscribed")) == ["recent@example.org"]
    assert _addresses(_get(client, "?status=pending")) == ["form.person@example.org"]
    assert _addresses(_get(client, f"?list={briefings}")) == ["private@example.org"]
    assert _addresses(_get(client, "?source=form")) == ["form.person@example.org"]
    assert sorted(_addresses(_get(client, "?source=cli"))) == [
        "old@example.org",
        "private@example.org",
        "recent@example.org",
    ]
    day = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    assert _addresses(_get(client, f"?joined_to={day}")) == ["old@example.org"]
    assert "old@example.org" not in _addresses(_get(client, f"?joined_from={day}"))
    assert old


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?status=gone", "status is one of"),
        ("?source=fax", "source is one of"),
        ("?list=999", "There is no list"),
        ("?list=abc", "There is no list"),
        ("?joined_from=2026-13-01", "YYYY-MM-DD"),
        ("?sort=shoe", "Sort by one of"),
        ("?after=not-a-cursor", "page link is damaged"),
        ("?after=WyJhQGV4YW1wbGUub3JnIl0", "page link is damaged"),  # an address sort's
        ("?sort=email&after=WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgMV0", "page link is damaged"),
        ("?after=WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgMV0", "page link is damaged"),  # no zone
        ("?after=W1tdLCBbXV0", "page link is damaged"),
        ("?q=%00", "NUL character"),
        ("?q=a%07b", "control character"),
    ],
)
def test_bad_query_strings_are_refused_with_the_reason(client, staff_login, query, message):
    staff_login()
    response = client.get(f"/staff/subscribers{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_keyset_pages_walk_every_subscriber_once(app, client, staff_login):
    for number in range(120):
        _add(app, f"person{number:03d}@example.org", days_ago=number % 7)
    staff_login()
    for sort in ("newest", "oldest", "email"):
        seen: list[str] = []
        query = f"?sort={sort}"
        pages = 0
        while True:
            html = _get(client, query)
            seen += _addresses(html)
            pages += 1
            found = re.search(r'href="(/staff/subscribers\?[^"]*after=[^"]+)" rel="next"', html)
            if not found:
                break
            query = found.group(1).replace("&amp;", "&").removeprefix("/staff/subscribers")
        assert pages == 3, sort
        assert sorted(seen) == sorted(f"person{n:03d}@example.org" for n in range(120)), sort
        if sort == "email":
            assert seen == sorted(seen)


def test_subscriber_page_shows_the_whole_record(app, client, staff_login):
    subscriber_id = _add(app, "who@example.org", name="Who Ever", organisation="Org")
    staff_login()
    html = client.get(f"/staff/subscribers/{subscriber_id}").get_data(as_text=True)
    for text in ("who@example.org", "Who Ever", "Org", "Dialogue digest", "Command line"):
        assert text in html
    assert "Consent history" in html
    assert "test" in html
    assert "No digest sent to them yet." in html


def _post(client, staff_login, path, **data):
    token = staff_login.csrf_token("/staff/subscribers")
    return client.post(path, data={"csrf_token": token, **data})


def test_change_lists_unsubscribe_and_resubscribe(app, client, staff_login, outbox):
    subscriber_id = _add(app, "mover@example.org")
    staff_login()
    page = f"/staff/subscribers/{subscriber_id}"
    changed = _post(client, staff_login, f"{page}/lists", lists=["digest", "briefings"])
    assert changed.status_code == 302
    none = _post(client, staff_login, f"{page}/lists")
    assert none.status_code == 400
    assert "Choose at least one list" in none.get_data(as_text=True)
    left = _post(client, staff_login, f"{page}/unsubscribe", reason="asked by phone")
    assert left.status_code == 302
    twice = _post(client, staff_login, f"{page}/unsubscribe")
    assert twice.status_code == 400
    no_note = _post(client, staff_login, f"{page}/resubscribe", consent="note", consent_note="")
    assert no_note.status_code == 400
    assert "Say how they consented" in no_note.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Subscriber, subscriber_id).status == SubscriberStatus.UNSUBSCRIBED
    outbox.reset()
    asked = _post(client, staff_login, f"{page}/resubscribe", consent="confirm")
    assert asked.status_code == 302
    (confirmation,) = outbox.wait_for(1)
    assert confirmation.message["To"] == "mover@example.org"
    assert "/confirm/" in text_of(confirmation)
    with app.app_context():
        subscriber = db.session.get(Subscriber, subscriber_id)
        assert subscriber.status == SubscriberStatus.PENDING
    noted = _post(
        client, staff_login, f"{page}/resubscribe", consent="note", consent_note="by letter"
    )
    assert noted.status_code == 302
    with app.app_context():
        subscriber = db.session.get(Subscriber, subscriber_id)
        assert subscriber.status == SubscriberStatus.ACTIVE
        assert {m.mailing_list.slug for m in subscriber.memberships} == {"digest", "briefings"}
        notes = list(
            db.session.scalars(
                sa.select(ConsentEvent.note)
                .where(ConsentEvent.subscriber_id == subscriber_id)
                .order_by(ConsentEvent.id)
            )
        )
    assert notes[1] == "lists changed by staff (editor@example.org)"
    assert notes[2] == "unsubscribed by staff (editor@example.org): asked by phone"
    assert notes[-1] == "subscribed again by staff (editor@example.org): by letter"


def test_admin_adds_one_subscriber_with_a_note_or_a_confirmation(app, client, staff_login, outbox):
    staff_login("admin@example.org", "admin")
    token = staff_login.csrf_token("/staff/subscribers/new")
    missing = client.post(
        "/staff/subscribers/new",
        data={"csrf_token": token, "email": "new@example.org", "consent": "note"},
    )
    assert missing.status_code == 400
    assert "Say how they consented" in missing.get_data(as_text=True)
    bad = client.post(
        "/staff/subscribers/new",
        data={"csrf_token": token, "email": "not an address", "consent": "confirm"},
    )
    assert bad.status_code == 400
    noted = client.post(
        "/staff/subscribers/new",
        data={
            "csrf_token": token,
            "email": "New@Example.org",
            "name": "New Person",
            "lists": ["briefings"],
            "consent": "note",
            "consent_note": "signed up on paper at the June session",
        },
    )
    assert noted.status_code == 302
    outbox.reset()
    confirmed = client.post(
        "/staff/subscribers/new",
        data={"csrf_token": token, "email": "later@example.org", "consent": "confirm"},
    )
    assert confirmed.status_code == 302
    (confirmation,) = outbox.wait_for(1)
    assert confirmation.message["To"] == "later@example.org"
    with app.app_context():
        new = db.session.scalar(
            sa.select(Subscriber).where(Subscriber.email_key == "new@example.org")
        )
        later = db.session.scalar(
            sa.select(Subscriber).where(Subscriber.email_key == "later@example.org")
        )
        assert new.status == SubscriberStatus.ACTIVE
        assert new.source == SubscriberSource.STAFF
        assert [m.mailing_list.slug for m in new.memberships] == ["briefings"]
        assert later.status == SubscriberStatus.PENDING


def test_csv_export_is_filtered_streamed_and_recorded(app, client, staff_login):
    _add(app, "a@example.org", name="=cmd|' /C calc'!A0")
    _add(app, "b@example.org", lists=("briefings",))
    staff_login("admin@example.org", "admin")
    with app.app_context():
        briefings = list_by_slug("briefings").id
    everyone = client.get("/staff/subscribers.csv")
    assert everyone.status_code == 200
    assert everyone.is_streamed
    rows = list(csv.DictReader(io.StringIO(everyone.get_data(as_text=True))))
    assert sorted(row["email"] for row in rows) == ["a@example.org", "b@example.org"]
    assert next(r for r in rows if r["email"] == "a@example.org")["name"].startswith("'=")
    filtered = client.get(f"/staff/subscribers.csv?list={briefings}")
    rows = list(csv.DictReader(io.StringIO(filtered.get_data(as_text=True))))
    assert [(row["email"], row["lists"]) for row in rows] == [("b@example.org", "briefings")]
    with app.app_context():
        records = list(
            db.session.scalars(sa.select(SubscriberExport).order_by(SubscriberExport.id))
        )
        assert [(r.staff_label, r.kind, r.filters) for r in records] == [
            ("admin@example.org", "csv", {}),
            ("admin@example.org", "csv", {"list": str(briefings)}),
        ]
    page = client.get("/staff/subscribers/exports").get_data(as_text=True)
    assert f"list={briefings}" in page


def test_person_export_from_the_page_and_the_command(app, client, staff_login, runner):
    subscriber_id = _add(app, "me@example.org", name="Mia Example", organisation="Lab")
    staff_login("admin@example.org", "admin")
    response = client.get(f"/staff/subscribers/{subscriber_id}/data.json")
    assert response.status_code == 200
    data = json.loads(response.get_data(as_text=True))
    assert set(data) == {
        "subscriber",
        "memberships",
        "consent_history",
        "deliveries",
        "mail_events",
        "report_requests",
    }
    assert data["subscriber"]["email"] == "me@example.org"
    assert data["subscriber"]["name"] == "Mia Example"
    assert [m["list"] for m in data["memberships"]] == ["digest"]
    assert data["consent_history"][0]["note"] == "test"
    result = runner.invoke(args=["subscribers", "export-person", "ME@example.org"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == data
    unknown = runner.invoke(args=["subscribers", "export-person", "nobody@example.org"])
    assert unknown.exit_code == 1
    assert "No subscriber" in unknown.output


def test_editors_see_but_do_not_export_add_or_erase(app, client, staff_login):
    subscriber_id = _add(app, "seen@example.org")
    staff_login()
    assert client.get("/staff/subscribers").status_code == 200
    html = client.get(f"/staff/subscribers/{subscriber_id}").get_data(as_text=True)
    assert "Erase" not in html
    assert "data.json" not in html
    token = staff_login.csrf_token("/staff/subscribers")
    for method, path in (
        ("GET", "/staff/subscribers.csv"),
        ("GET", "/staff/subscribers/new"),
        ("GET", "/staff/subscribers/exports"),
        ("GET", f"/staff/subscribers/{subscriber_id}/data.json"),
        ("POST", f"/staff/subscribers/{subscriber_id}/erase"),
    ):
        response = client.open(path, method=method, data={"csrf_token": token, "confirm": "erase"})
        assert response.status_code == 403, path
    with app.app_context():
        assert db.session.get(Subscriber, subscriber_id) is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SubscriberExport)) == 0


def test_source_of_each_path(app, client, runner, tmp_path):
    subscribe(client, "formed@example.org")
    assert runner.invoke(args=["subscribers", "add", "cli@example.org"]).exit_code == 0
    file = tmp_path / "people.csv"
    file.write_text("email\nimported@example.org\n", encoding="utf-8")
    result = runner.invoke(args=["subscribers", "import", str(file), "--consent-note", "x"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        sources = dict(db.session.execute(sa.select(Subscriber.email_key, Subscriber.source)).all())
    assert sources == {
        "formed@example.org": SubscriberSource.FORM,
        "cli@example.org": SubscriberSource.CLI,
        "imported@example.org": SubscriberSource.IMPORT,
    }
