"""The staff home page: where things stand."""

from __future__ import annotations

from flask import render_template

from newsletter.digests import services as digests
from newsletter.sessions import services as sessions
from newsletter.subscriptions import stats
from newsletter.web.staff import bp


@bp.get("/")
def home() -> str:
    return render_template(
        "staff/home.html",
        counts=stats.subscriber_counts(),
        lists=stats.list_sizes(),
        digests=digests.all_digests()[:5],
        sessions=sessions.all_sessions()[:5],
    )
