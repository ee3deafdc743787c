"""The staff home page: where things stand, in figures and charts, and what needs
attention."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for

from newsletter.delivery import health
from newsletter.digests import services as digests
from newsletter.reports import services as reports
from newsletter.sessions import services as sessions
from newsletter.subscriptions import stats
from newsletter.subscriptions.models import SubscriberStatus
from newsletter.web.staff import bp

# The subscriber list's filters (its query string is the contract: status, list, source).
SUBSCRIBERS = "staff.subscribers"


def subscribers_link(**filters: Any) -> str:
    """A link to the subscriber list with these filters."""
    return url_for(SUBSCRIBERS, **filters)


def _figures() -> dict[str, Any]:
    counts = stats.subscriber_counts()
    return {
        "counts": counts,
        "lists": stats.list_sizes(),
        "weeks": stats.weekly(active=counts[SubscriberStatus.ACTIVE]),
        "sends": health.recent_sends(),
    }


@bp.get("/")
def home() -> str:
    figures, computed_at = stats.cached("dashboard", _figures)
    sends = figures["sends"]
    return render_template(
        "staff/home.html",
        counts=figures["counts"],
        lists=figures["lists"],
        weeks=figures["weeks"],
        sends=sends,
        computed_at=computed_at,
        attention=health.attention(sends),
        dkim=health.dkim_state(),
        pending_requests=reports.pending_count(),
        subscribers_link=subscribers_link,
        digests=digests.all_digests()[:5],
        sessions=sessions.all_sessions()[:5],
    )
