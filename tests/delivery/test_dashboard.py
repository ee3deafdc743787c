"""The staff home's dashboard: its figures against data made here, read from the page
(the tables the charts are drawn from), and what it flags for attention."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from newsletter.bounces.models import EventKind, MailEvent
from newsletter.delivery import execution
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from newsletter.subscriptions import services
from newsletter.subscriptions.lists import list_by_slug
from newsletter.subscriptions.models import SubscriberStatus
from newsletter.subscriptions.roster import add_subscriber
from tests.waiting import wait_until


def _table(html: str, label: str) -> list[list[str]]:
    """The rows (header cell, then values) of the table in the region ``label``."""
    region = html.split(f'aria-label="{label}"', 1)[1].split("</table>", 1)[0]
    body = region.split("<tbody>", 1)[1]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    ]


def test_the_weekly_figures_count_joins_departures_and_the_active(
    app, client, staff_login, make_list
):
    make_list("digest", "Dialogue digest", default=True)
    with app.app_context():
        lists = [list_by_slug("digest")]
        for name in ("a", "b", "c", "d"):
            add_subscriber(f"{name}@example.org", lists=lists, consent_note="met at the forum")
        services.unsubscribe(
            services.subscriber_by_email("b@example.org"), services.Origin(), note="test"
        )
        services.stop_mail(
            services.subscriber_by_email("c@example.org"),
            SubscriberStatus.BOUNCED,
            "the address bounced",
            None,
        )
        db.session.commit()
    staff_login()
    html = client.get("/staff/").get_data(as_text=True)
    active = _table(html, "Active subscribers per week")
    flows = _table(html, "Confirmations and unsubscribes per week")
    assert len(active) == len(flows) == 12
    assert active[-1][1] == "2"  # a and d
    assert active[-2][1] == "0"  # none before this week
    assert flows[-1][1:] == ["4", "2"]  # four joined; one left, one bounced
    assert all(row[1:] == ["0", "0"] for row in flows[:-1])
    assert "DKIM not configured" in html
    assert "<canvas" in html


def test_the_last_sends_figures_and_a_paused_send(
    app, client, staff_login, add_subscribers, digest_id, start, outbox
):
    readers = add_subscribers(4)
    outbox.reply_to_rcpt(readers[0], "550 5.1.1 no such user")
    start(digest_id)
    execution.work_on(app, digest_id)
    outbox.wait_for(3)
    with app.app_context():
        db.session.add(MailEvent(digest_id=digest_id, kind=EventKind.SOFT_BOUNCE, source="test"))
        db.session.commit()
    staff_login()
    html = client.get("/staff/").get_data(as_text=True)
    (row,) = _table(html, "Deliveries of the last digests")
    assert row[1:] == ["3", "1", "1"]  # delivered, failed, bounced
    assert "Bounces are rising: 66.7%" in html  # 2 of 3: past the floor, no earlier send

    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        digest.status = DigestStatus.PAUSED
        digest.pause_reason = "The mail server refused our configuration"
        db.session.commit()
    html = client.get("/staff/").get_data(as_text=True)
    assert "is paused: The mail server refused our configuration" in html
    assert f'href="/staff/digests/{digest_id}/progress"' in html


def test_counts_link_to_the_filtered_subscriber_list(app, client, staff_login, make_list):
    """Each count links to the subscriber list with the agreed filters."""
    make_list("digest", "Dialogue digest", default=True)
    with app.app_context():
        list_id = list_by_slug("digest").id
        add_subscriber("a@example.org", lists=[list_by_slug("digest")], consent_note="x")
        db.session.commit()
    staff_login()
    html = client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/subscribers?status=active">1</a>' in html
    assert 'href="/staff/subscribers?status=pending">0</a>' in html
    assert f'href="/staff/subscribers?status=active&amp;list={list_id}">1</a>' in html


def test_pending_report_requests_are_counted(app, client, staff_login, slug):
    from newsletter.reports.models import RequestStatus
    from tests.reports.fixtures import requests_of, set_status
    from tests.reports.helpers import ask

    for email in ("ada@example.org", "bob@example.org"):
        assert ask(client, slug, email).status_code in (200, 302)
    first, second = requests_of(app)
    set_status(app, first.id, status=RequestStatus.PENDING)  # verified, waiting for staff
    set_status(app, second.id, status=RequestStatus.UNVERIFIED)
    staff_login()
    html = client.get("/staff/").get_data(as_text=True)
    assert '<dt>Report requests</dt><dd><a href="/staff/reports">1</a>' in html


@pytest.mark.app_config(DASHBOARD_CACHE_SECONDS=300)
def test_the_figures_are_kept_for_a_while(app, client, staff_login, make_list):
    """Counting a million subscribers takes a while: the page keeps its figures."""
    make_list("digest", "Dialogue digest", default=True)
    staff_login()
    first = client.get("/staff/").get_data(as_text=True)
    assert '<dt>Active</dt><dd><a href="/staff/subscribers?status=active">0</a></dd>' in first
    assert "counted again at most every 300 s" in first
    with app.app_context():
        add_subscriber("a@example.org", lists=[list_by_slug("digest")], consent_note="x")
        db.session.commit()
    assert '<dt>Active</dt><dd><a href="/staff/subscribers?status=active">0</a></dd>' in client.get(
        "/staff/"
    ).get_data(as_text=True)
    # Once they are old, a view still gets them at once, and has them counted again.
    app.config["DASHBOARD_CACHE_SECONDS"] = 0.05
    wait_until(
        lambda: (
            '<dt>Active</dt><dd><a href="/staff/subscribers?status=active">1</a></dd>'
            in client.get("/staff/").get_data(as_text=True)
        ),
        message="the figures were never counted again",
        interval=0.1,
    )


def test_each_event_counts_in_its_own_week(app, make_list):
    """Week boundaries: Monday 00:00 UTC starts a week; the active count is worked back."""
    from datetime import timedelta

    from newsletter.subscriptions import stats
    from newsletter.subscriptions.models import ConsentAction, ConsentEvent, Subscriber
    from newsletter.timeutil import utcnow

    make_list("digest", "Dialogue digest", default=True)
    now = utcnow()
    starts = stats.week_starts(12, now)
    with app.app_context():
        for name in ("a", "b", "c"):
            add_subscriber(f"{name}@example.org", lists=[list_by_slug("digest")], consent_note="x")
        db.session.commit()
        ids = list(db.session.scalars(sa.select(Subscriber.id).order_by(Subscriber.id)))
        db.session.execute(sa.delete(ConsentEvent))
        moments = [
            (ids[0], ConsentAction.CONFIRMED, starts[2]),  # the first moment of week 2
            (ids[1], ConsentAction.IMPORTED, starts[3] - timedelta(seconds=1)),  # still 2
            (ids[2], ConsentAction.ADDED, starts[10] + timedelta(days=6, hours=23)),
            (ids[2], ConsentAction.CHANGED, starts[11]),  # not a join
            (ids[0], ConsentAction.CONFIRMED, starts[0] - timedelta(seconds=1)),  # too old
        ]
        for subscriber_id, action, at in moments:
            db.session.add(ConsentEvent(subscriber_id=subscriber_id, action=action, at=at))
        db.session.commit()
        weeks = stats.weekly(12, now)
        db.session.remove()
    assert [week.start for week in weeks] == starts
    assert [week.joined for week in weeks] == [0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    assert [week.active for week in weeks] == [0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3]
    assert all(week.start.weekday() == 0 and week.start.hour == 0 for week in weeks)
