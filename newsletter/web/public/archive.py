"""The public archive of sent digests, its Atom feed, and published session pages."""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator
from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from newsletter import i18n, links
from newsletter.digests import archive, render
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
    digests before and after it, with an invitation to subscribe; links (``hreflang``)
    to its versions in other languages."""
    return _digest_page(slug, None)


@bp.get("/archive/<slug>/<lang>")
def archive_digest_in(slug: str, lang: str) -> str:
    """The digest's version in ``lang``, as it was sent to that language's readers."""
    return _digest_page(slug, lang)


def _digest_page(slug: str, lang: str | None) -> str:
    digest = archive.by_slug(slug)
    if digest is None or digest.archived_html is None:
        abort(404, _("There is no sent digest at this address."))
    body, subject = digest.archived_html, digest.subject
    language = i18n.default_language()
    if lang is not None and lang != language:
        frozen = (digest.archived_variants or {}).get(lang)
        if not frozen:
            abort(404, _("This digest was not sent in that language."))
        body, subject, language = frozen["html"], frozen.get("subject") or subject, lang
    older, newer = archive.neighbours(digest)
    alternates = [
        (tag, render.archive_url(digest, tag)) for tag, _subject in archive.versions(digest)
    ]
    return render_template(
        "public/digest.html",
        digest=digest,
        subject=subject,
        body=Markup(body),  # noqa: S704 - our own render, frozen at send
        body_language=language,
        alternates=alternates,
        older=older,
        newer=newer,
    )


@bp.get("/archive/feed.xml")
def archive_feed() -> Response:
    """The Atom feed of the archive in one language (``?lang=fa-AF``; default: the
    site's first): each digest's version in it, or the default one where none was sent."""
    language = i18n.known(request.args.get("lang")) or i18n.default_language()
    if request.args.get("lang") and i18n.known(request.args.get("lang")) is None:
        abort(404, _("There is no feed in that language."))
    i18n.fix_language(language)
    site = site_settings.current()
    digests = archive.latest()
    publisher = site.organisation_name or site.site_name
    own_url = links.external_url(
        "public.archive_feed", **({} if language == i18n.default_language() else {"lang": language})
    )
    feed = FeedGenerator()
    feed.id(own_url)
    feed.title(site.site_name)
    feed.subtitle(_("Digests of %(publisher)s", publisher=publisher))
    feed.author({"name": publisher})
    feed.link(href=links.external_url("public.archive_index"), rel="alternate")
    feed.link(href=own_url, rel="self")
    feed.language(language)
    feed.updated(max((d.sent_at for d in digests if d.sent_at), default=EMPTY_FEED_UPDATED))
    for digest in reversed(digests):  # feedgen prepends: newest ends up first
        entry = feed.add_entry()
        frozen = (digest.archived_variants or {}).get(language)
        entry.id(f"urn:uuid:{digest.public_id}" + (f":{language}" if frozen else ""))
        # Text stored before such characters were refused must not break the feed.
        entry.title(strip_unstorable(frozen.get("subject", "") if frozen else digest.subject))
        entry.link(href=render.archive_url(digest, language if frozen else None))
        entry.published(digest.sent_at)
        entry.updated(digest.sent_at)
        if digest.preheader and not frozen:
            entry.summary(strip_unstorable(digest.preheader))
        html = frozen["html"] if frozen else digest.archived_html
        entry.content(strip_unstorable(html or ""), type="html")
    return Response(feed.atom_str(pretty=True), mimetype="application/atom+xml")


@bp.get("/sessions/<slug>")
def session(slug: str) -> str:
    found = sessions.published_session(slug)
    if found is None:
        abort(404, "There is no published session at this address.")
    report = report_of(found)
    # In the page's language when the session has a translation in it (the points
    # each in theirs: one without a translation stays in the original).
    language = i18n.current_language()
    translated = (found.translations or {}).get(language, {})
    return render_template(
        "public/session.html",
        session=found,
        has_report=bool(report and report.current),
        content_language=language if translated else None,
        heading=render.session_heading(found),
        title=translated.get("title") or found.title,
        narrative=translated.get("narrative") or found.narrative,
        points=[((point.translations or {}).get(language) or point.text) for point in found.points],
    )
