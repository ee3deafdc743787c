"""Which digests are public: those sent to public lists only (or that staff chose to
publish on the send page), never a cancelled one."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.delivery import execution, sends
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.subscriptions.lists import list_by_slug
from tests.conftest import form_values
from tests.subscriptions.helpers import text_of


def _to_lists(app, digest_id: int, *slugs: str) -> str:
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        digest.lists = [list_by_slug(slug) for slug in slugs]
        db.session.commit()
        return digest.subject


def _slug(app, digest_id: int) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(Digest.slug).where(Digest.id == digest_id))


def _public_everywhere(client, slug: str) -> list[bool]:
    return [
        client.get(f"/archive/{slug}").status_code == 200,
        slug in client.get("/archive").get_data(as_text=True),
        slug in client.get("/").get_data(as_text=True),
        slug in client.get("/archive/feed.xml").get_data(as_text=True),
    ]


def test_a_digest_to_a_private_list_is_not_published(
    app, client, make_list, add_subscribers, digest_id, start, outbox
):
    make_list("board", "Board briefing", public=False)
    add_subscribers(1, lists=("board",))
    _to_lists(app, digest_id, "board")
    start(digest_id)
    execution.work_on(app, digest_id, concurrency=1)
    slug = _slug(app, digest_id)
    assert _public_everywhere(client, slug) == [False, False, False, False]
    # Its readers get no "view in your browser" link that would lead nowhere.
    assert "/archive/" not in text_of(outbox.wait_for(1)[0])


def test_a_digest_to_public_lists_is_published(
    app, client, add_subscribers, digest_id, start, outbox
):
    add_subscribers(1)
    start(digest_id)
    execution.work_on(app, digest_id, concurrency=1)
    assert _public_everywhere(client, _slug(app, digest_id)) == [True, True, True, True]
    assert "/archive/" in text_of(outbox.wait_for(1)[0])


def test_the_send_page_makes_publishing_a_choice(
    app, client, staff_login, make_list, add_subscribers, digest_id, outbox
):
    make_list("board", "Board briefing", public=False)
    add_subscribers(1, lists=("board",))
    _to_lists(app, digest_id, "digest", "board")
    staff_login()
    page = client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True)
    assert "public archive" in page
    values = form_values(page)
    assert "1" not in values.get("in_archive", [])  # a private list: unticked by default
    values["in_archive"] = ["0", "1"]  # staff tick it
    assert client.post(f"/staff/digests/{digest_id}/send", data=values).status_code == 302
    execution.work_on(app, digest_id, concurrency=1)
    assert _public_everywhere(client, _slug(app, digest_id))[0] is True

    with app.app_context():
        other = db.session.get(Digest, digest_id)
        assert other.in_archive is True


def test_public_lists_are_ticked_by_default_on_the_send_page(app, client, staff_login, digest_id):
    staff_login()
    values = form_values(client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True))
    assert values["in_archive"] == ["0", "1"]


def test_a_cancelled_digest_is_not_public(app, client, add_subscribers, digest_id, start, outbox):
    add_subscribers(3)
    start(digest_id)
    slug = _slug(app, digest_id)
    assert client.get(f"/archive/{slug}").status_code == 200  # while sending: its readers' link
    with app.app_context():
        sends.cancel(db.session.get(Digest, digest_id))
        db.session.commit()
    assert _public_everywhere(client, slug) == [False, False, False, False]
