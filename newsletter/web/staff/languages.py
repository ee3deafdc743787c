"""Content in several languages: a digest's variants side by side (which are incomplete,
and why), and a session's translations beside the original (typed, or read from a
pasted translated summary)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsletter import i18n
from newsletter.digests import variants
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.sessions import translations
from newsletter.sessions.models import DialogueSession
from newsletter.web.formtools import saving
from newsletter.web.staff import bp
from newsletter.web.staff.forms import ButtonForm


@bp.route("/digests/<int:digest_id>/languages", methods=["GET", "POST"])
def digests_languages(digest_id: int) -> str | Response | tuple[str, int]:
    """Every variant beside the default one, one form with one Save. An item without
    words of its own in a language shows its point's translation (where the variant
    starts from); saving keeps what is shown."""
    digest = db.get_or_404(Digest, digest_id)
    form = ButtonForm()
    languages = variants.other_languages()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        with saving(form) as attempt:
            for language in languages:
                variants.save(
                    digest,
                    language,
                    {name: request.form.get(f"{language}-{name}", "") for name in variants.FIELDS},
                    {
                        item.id: request.form.get(f"{language}-item-{item.id}", "")
                        for item in digest.items
                    },
                )
        if attempt.ok:
            flash(_("Variants saved."), "success")
            return redirect(url_for("staff.digests_languages", digest_id=digest.id))
    columns = [
        {
            "language": language,
            "name": i18n.language_name(language),
            "dir": i18n.direction(language),
            "values": (digest.variants or {}).get(language, {}),
            "items": {item.id: variants.item_text(item, language) or "" for item in digest.items},
            "missing": variants.missing(digest, language),
        }
        for language in languages
    ]
    status = 400 if form.is_submitted() else 200
    return render_template(
        "staff/digests/languages.html",
        digest=digest,
        form=form,
        columns=columns,
        default=i18n.default_language(),
    ), status


@bp.route("/sessions/<int:session_id>/translations", methods=["GET", "POST"])
def sessions_translations(session_id: int) -> str | Response | tuple[str, int]:
    """A session's title, narrative and points in each other language, beside the
    original; or a pasted translated summary read for its points, date and countries."""
    session = db.get_or_404(DialogueSession, session_id)
    form = ButtonForm()
    languages = i18n.languages()[1:]
    report: translations.ImportReport | None = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        pasted_language = request.form.get("paste_language", "")
        with saving(form) as attempt:
            if request.form.get("paste"):
                report = translations.import_translation(
                    session, pasted_language, request.form.get("paste", "")
                )
            else:
                for language in languages:
                    translations.save(
                        session,
                        language,
                        title=request.form.get(f"{language}-title", ""),
                        narrative=request.form.get(f"{language}-narrative", ""),
                        points={
                            point.id: request.form.get(f"{language}-point-{point.id}", "")
                            for point in session.points
                        },
                    )
        if attempt.ok and report is None:
            flash(_("Translations saved."), "success")
            return redirect(url_for("staff.sessions_translations", session_id=session.id))
        if attempt.ok and report is not None:
            flash(report.summary, "success" if not report.problems else "warning")
            return redirect(url_for("staff.sessions_translations", session_id=session.id))
    columns = [
        {
            "language": language,
            "name": i18n.language_name(language),
            "dir": i18n.direction(language),
            "values": (session.translations or {}).get(language, {}),
            "points": {
                point.id: (point.translations or {}).get(language, "") for point in session.points
            },
            "missing": translations.missing(session, language),
        }
        for language in languages
    ]
    status = 400 if form.is_submitted() else 200
    return render_template(
        "staff/sessions/translations.html",
        session=session,
        form=form,
        columns=columns,
        languages=languages,
    ), status
