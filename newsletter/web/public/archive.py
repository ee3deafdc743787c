"""The public archive of sent digests, its Atom feed, and published session pages."""

from __future__ import annotations

from feedgen.feed import FeedGenerator
from flask import Response, abort, current_app, render_template, request

from newsletter import links
from newsletter.digests import archive
from newsletter.reports.files import report_of
from newsletter.sessions import services as sessions
from newsletter.timeutil import utcnow
from newsletter.validation import strip_unstorable
from newsletter.web.public import bp

# The web version is the email itself: its styles are inline; nothing else may run.
_WEB_VERSION_CSP = (
    "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


@bp.get("/archive")
def archive_index() -> str:
    number = max(request.args.get("page", 1, type=int) or 1, 1)
    if number > archive.MAX_PAGE:  # an offset no database should be asked for
        abort(404, "There is no such page of the archive.")
    return render_template("public/archive.html", page=archive.page(number))


@bp.get("/archive/<slug>")
def archive_digest(slug: str) -> Response:
    digest = archive.by_slug(slug)
    if digest is None or digest.archived_html is None:
        abort(404, "There is no sent digest at this address.")
    response = Response(digest.archived_html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _WEB_VERSION_CSP
    return response


@bp.get("/archive/feed.xml")
def archive_feed() -> Response:
    config = current_app.config
    digests = archive.latest()
    feed = FeedGenerator()
    feed.id(links.external_url("public.archive_index"))
    feed.title(config["SITE_NAME"])
    feed.subtitle(f"Digests of {config['ORGANISATION_NAME'] or config['SITE_NAME']}")
    feed.author({"name": config["ORGANISATION_NAME"] or config["SITE_NAME"]})
    feed.link(href=links.external_url("public.archive_index"), rel="alternate")
    feed.link(href=links.external_url("public.archive_feed"), rel="self")
    feed.language("en")
    feed.updated(digests[0].sent_at if digests else utcnow())
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
        entry.content(strip_unstorable(digest.archived_text or ""), type="text")
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
