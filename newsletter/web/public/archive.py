"""The public archive of sent digests, its Atom feed, and published session pages."""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from flask import Response, abort, render_template, request
from markupsafe import Markup

from newsletter import links
from newsletter.digests import archive
from newsletter.reports.files import report_of
from newsletter.sessions import services as sessions
from newsletter.settings import services as site_settings
from newsletter.validation import strip_unstorable
from newsletter.web.public import bp

# An empty feed's <updated>: a fixed moment, so that it does not change on every request.
EMPTY_FEED_UPDATED = datetime(2020, 1, 1, tzinfo=UTC)


@bp.get("/archive")
def archive_index() -> str:
    number = max(request.args.get("page", 1, type=int) or 1, 1)
    if number > archive.MAX_PAGE:  # an offset no database should be asked for
        abort(404, "There is no such page of the archive.")
    return render_template("public/archive.html", page=archive.page(number))


@bp.get("/archive/<slug>")
def archive_digest(slug: str) -> str:
    """A digest as part of the site: the copy frozen when it was sent, between the
    digests before and after it, with an invitation to subscribe."""
    digest = archive.by_slug(slug)
    if digest is None or digest.archived_html is None:
        abort(404, "There is no sent digest at this address.")
    older, newer = archive.neighbours(digest)
    return render_template(
        "public/digest.html",
        digest=digest,
        body=Markup(digest.archived_html),  # noqa: S704 - our own render, frozen at send
        older=older,
        newer=newer,
    )


@bp.get("/archive/feed.xml")
def archive_feed() -> Response:
    site = site_settings.current()
    digests = archive.latest()
    publisher = site.organisation_name or site.site_name
    feed = FeedGenerator()
    feed.id(links.external_url("public.archive_index"))
    feed.title(site.site_name)
    feed.subtitle(f"Digests of {publisher}")
    feed.author({"name": publisher})
    feed.link(href=links.external_url("public.archive_index"), rel="alternate")
    feed.link(href=links.external_url("public.archive_feed"), rel="self")
    feed.language("en")
    feed.updated(max((d.sent_at for d in digests if d.sent_at), default=EMPTY_FEED_UPDATED))
    for digest in reversed(digests):  # feedgen prepends: newest ends up first
        entry = feed.add_entry()
        entry.id(f"urn:uuid:{digest.public_id}")
        # Text stored before such characters were refused must not break the feed.
        entry.title(strip_unstorable(digest.subject))
        entry.link(href=links.external_url("public.archive_digest", slug=digest.slug))
        entry.published(digest.sent_at)
        entry.updated(digest.sent_at)
        if digest.preheader:
            entry.summary(strip_unstorable(digest.preheader))
        entry.content(strip_unstorable(digest.archived_html or ""), type="html")
    return Response(feed.atom_str(pretty=True), mimetype="application/atom+xml")


@bp.get("/sessions/<slug>")
def session(slug: str) -> str:
    found = sessions.published_session(slug)
    if found is None:
        abort(404, "There is no published session at this address.")
    report = report_of(found)
    return render_template(
        "public/session.html", session=found, has_report=bool(report and report.current)
    )
