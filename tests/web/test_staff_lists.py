"""Lists in the browser: create, rename, describe, public or private, the default,
archive (offered nowhere, sent to by no digest, history kept), restore, and delete only
what nothing was sent to; each list's figures."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from newsletter.delivery import sends
from newsletter.digests import services as digests
from newsletter.extensions import db
from newsletter.sessions import services as sessions
from newsletter.subscriptions import roster
from newsletter.subscriptions.lists import list_by_slug
from newsletter.subscriptions.models import MailingList, Membership
from newsletter.validation import InvalidInput
from tests.subscriptions.helpers import subscribe


def _list(app, slug: str) -> MailingList:
    with app.app_context():
        found = db.session.scalar(sa.select(MailingList).where(MailingList.slug == slug))
        db.session.expunge(found)
        return found


def _post(client, token, path, **data):
    return client.post(path, data={"csrf_token": token, **data})


def test_admin_creates_edits_and_chooses_the_default(app, client, staff_login, make_list):
    make_list("digest", "Dialogue digest", default=True)
    staff_login("admin@example.org", "admin")
    token = staff_login.csrf_token("/staff/lists")
    created = _post(
        client, token, "/staff/lists", slug="briefings", name="Briefings", is_public="y"
    )
    assert created.status_code == 302
    bad = _post(client, token, "/staff/lists", slug="Not A Slug!", name="X")
    assert bad.status_code == 400
    assert "A list slug has 1 to 64 characters" in bad.get_data(as_text=True)
    twice = _post(client, token, "/staff/lists", slug="briefings", name="Again")
    assert "exists already" in twice.get_data(as_text=True)

    briefings = _list(app, "briefings")
    edited = _post(
        client,
        token,
        f"/staff/lists/{briefings.id}",
        name="Policy briefings",
        description="Short notes for officials.",
        is_default="y",
    )
    assert edited.status_code == 302
    assert _post(client, token, f"/staff/lists/{briefings.id}", name="").status_code == 400
    now = _list(app, "briefings")
    assert (now.name, now.description, now.is_public, now.is_default) == (
        "Policy briefings",
        "Short notes for officials.",
        False,
        True,
    )
    assert _list(app, "digest").is_default is False
    page = client.get("/staff/lists").get_data(as_text=True)
    assert "Policy briefings" in page
    assert "Short notes for officials." in page


def test_archived_list_is_offered_nowhere_and_sent_to_by_nobody(
    app, client, staff_login, make_list
):
    make_list("digest", "Dialogue digest", default=True)
    make_list("old", "Old list")
    old = _list(app, "old")
    subscribe(client, "reader@example.org")
    with app.app_context():
        roster.add_subscriber("member@example.org", lists=[list_by_slug("old")], consent_note="x")
        session = sessions.create_session(sessions.SessionData(series_name="S", title="T"), ["P"])
        digest = digests.create_from_session(session)
        digest.lists = [list_by_slug("old")]
        db.session.commit()
        digest_id = digest.id
    staff_login("admin@example.org", "admin")
    token = staff_login.csrf_token("/staff/lists")
    digest_list = _list(app, "digest")
    refused = _post(client, token, f"/staff/lists/{digest_list.id}/archive")
    assert refused.status_code == 302
    assert "Choose another default list" in client.get("/staff/lists").get_data(as_text=True)

    assert _post(client, token, f"/staff/lists/{old.id}/archive").status_code == 302
    reader = app.test_client()
    assert 'value="old"' not in reader.get("/subscribe").get_data(as_text=True)
    with app.app_context():
        digest = db.session.get(digests.Digest, digest_id)
        with pytest.raises(InvalidInput, match="The list Old list is archived"):
            sends.start_send(digest)
        db.session.rollback()
        # its history stays: the member is still on it
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Membership)
                .where(Membership.list_id == old.id)
            )
            == 1
        )
    page = client.get("/staff/lists").get_data(as_text=True)
    assert "Archived" in page
    assert _post(client, token, f"/staff/lists/{old.id}/restore").status_code == 302
    assert 'value="old"' in reader.get("/subscribe").get_data(as_text=True)
    assert _list(app, "old").archived_at is None


def test_a_list_with_digests_sent_cannot_be_deleted(app, client, staff_login, make_list):
    make_list("digest", "Dialogue digest", default=True)
    make_list("empty", "Empty list")
    make_list("sent", "Sent list")
    with app.app_context():
        roster.add_subscriber("member@example.org", lists=[list_by_slug("sent")], consent_note="x")
        session = sessions.create_session(sessions.SessionData(series_name="S", title="T"), ["P"])
        digest = digests.create_from_session(session)
        digest.lists = [list_by_slug("sent")]
        db.session.flush()
        sends.start_send(digest)
        db.session.commit()
    staff_login("admin@example.org", "admin")
    token = staff_login.csrf_token("/staff/lists")
    sent, empty = _list(app, "sent"), _list(app, "empty")
    assert "archived but not deleted" in client.get(f"/staff/lists/{sent.id}").get_data(
        as_text=True
    )
    refused = _post(client, token, f"/staff/lists/{sent.id}/delete")
    assert refused.status_code == 302
    assert "archive it instead" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert _list(app, "sent") is not None
    assert _post(client, token, f"/staff/lists/{empty.id}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(MailingList).where(MailingList.slug == "empty")) is None


def test_figures_count_active_members_and_growth(app, client, staff_login, make_list):
    make_list("digest", "Dialogue digest", default=True)
    with app.app_context():
        for number in range(3):
            roster.add_subscriber(
                f"p{number}@example.org", lists=[list_by_slug("digest")], consent_note="x"
            )
        db.session.commit()
    subscribe(client, "pending@example.org")  # pending: not counted
    staff_login()
    page = client.get("/staff/lists").get_data(as_text=True)
    assert '>3<span class="visually-hidden"> active subscribers of Dialogue digest' in page
    assert "+3" in page
