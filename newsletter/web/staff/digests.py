"""The digest composer: texts and lists, quoted points in order, preview, test send."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from newsletter import i18n
from newsletter.digests import render, variants
from newsletter.digests import services as digests
from newsletter.digests.models import Digest, DigestItem
from newsletter.extensions import db
from newsletter.sessions import services as sessions
from newsletter.subscriptions import lists as list_service
from newsletter.web.formtools import saving
from newsletter.web.framing import sandboxed_html
from newsletter.web.rows import RowEdit, RowsForm, form_id, read_rows
from newsletter.web.staff import bp
from newsletter.web.staff.forms import ButtonForm, DigestForm, NewDigestForm


def _back(digest_id: int, anchor: str | None = None) -> WerkzeugResponse:
    return redirect(url_for("staff.digests_edit", digest_id=digest_id, _anchor=anchor))


@bp.get("/digests")
def digests_index() -> str:
    return render_template(
        "staff/digests/index.html", digests=digests.all_digests(), form=NewDigestForm()
    )


@bp.post("/digests")
def digests_new() -> WerkzeugResponse | tuple[str, int]:
    form = NewDigestForm()
    if form.validate_on_submit():
        with saving(form) as attempt:
            digest = digests.create_digest(form.subject.data or "", current_user)
        if attempt.ok:
            return _back(digest.id)
    return render_template(
        "staff/digests/index.html", digests=digests.all_digests(), form=form
    ), 400


@bp.route("/digests/<int:digest_id>", methods=["GET", "POST"])
def digests_edit(digest_id: int) -> WerkzeugResponse | tuple[str, int]:
    """The whole composer is one form with one Save: texts, lists, items (words, order,
    removal) and the points to add all leave together, so nothing typed is lost."""
    digest = db.get_or_404(Digest, digest_id)
    form = DigestForm()
    form.lists.set_lists(list_service.active_lists())
    rows = RowsForm([RowEdit(item.id, item.text) for item in digest.items])
    ticked: list[int] = []
    if request.method == "POST":
        rows = read_rows("item")
        ticked = _ticked_points()
        if form.validate_on_submit():
            with saving(form) as attempt:
                added = _save_composer(digest, form, rows, ticked)
            if attempt.ok:
                return _saved_digest(digest, rows, added)
    else:
        form.subject.data = digest.subject
        form.preheader.data = digest.preheader
        form.intro.data = digest.intro
        form.outro.data = digest.outro
        form.lists.data = [lst.slug for lst in digest.lists]
    status = 400 if form.is_submitted() else 200
    items = {item.id: item for item in digest.items}
    return render_template(
        "staff/digests/edit.html",
        digest=digest,
        form=form,
        rows=[_shown(row, items.get(row.id)) for row in rows.rows],
        sessions=sessions.all_sessions(),
        chosen={item.point_id for item in digest.items},
        incomplete_variants=[
            language
            for language in variants.other_languages()
            if variants.missing(digest, language)
        ],
        ticked=set(ticked),
    ), status


def _ticked_points() -> list[int]:
    raw = request.form.getlist("point_ids")
    point_ids = [form_id(value) for value in raw]
    if None in point_ids:
        abort(400, _("The chosen points were not understood."))
    return [point_id for point_id in point_ids if point_id]


def _save_composer(digest: Digest, form: DigestForm, rows: RowsForm, ticked: list[int]) -> int:
    digests.update_digest(
        digest,
        subject=form.subject.data or "",
        preheader=form.preheader.data or "",
        intro=form.intro.data or "",
        outro=form.outro.data or "",
        list_slugs=form.lists.data or [],
    )
    with rows.errors_beside_rows():
        digests.save_items(
            digest,
            rows.texts(),
            order=rows.order(),
            removed=rows.removed(),
            move=rows.move,
            reset=form_id(request.form.get("reset", "")),
        )
    return digests.add_points(digest, ticked) if ticked else 0


def _saved_digest(digest: Digest, rows: RowsForm, added: int) -> WerkzeugResponse:
    message = _("Digest saved.")
    if added:
        message += " " + ngettext(
            "Added %(count)s point.",
            "Added %(count)s points.",
            added,
            count=i18n.digits(str(added)),
        )
    if rows.removed():
        removed = len(rows.removed())
        message += " " + ngettext(
            "Removed %(count)s item.",
            "Removed %(count)s items.",
            removed,
            count=i18n.digits(str(removed)),
        )
    flash(message, "success")
    anchor = f"item-{rows.move[0]}" if rows.move else ("items" if added else None)
    return _back(digest.id, anchor)


def _shown(row: RowEdit, item: DigestItem | None) -> dict[str, object]:
    """A row of the items list: what was typed, and where its point comes from."""
    session = item.point.session if item else None
    return {
        "id": row.id,
        "text": row.text,
        "remove": row.remove,
        "error": row.error,
        "edited": item is not None and item.text_override is not None,
        "source": f"{session.heading} — {session.title}" if session else "",
    }


@bp.get("/digests/<int:digest_id>/preview")
def digests_preview(digest_id: int) -> str:
    digest = db.get_or_404(Digest, digest_id)
    result = render.preview(digest, current_user.email)
    return render_template(
        "staff/digests/preview.html",
        digest=digest,
        preview=result,
        limit=render.MAX_HTML_BYTES,
        html_bytes=len(result.html.encode()),
        button=ButtonForm(),
    )


@bp.get("/digests/<int:digest_id>/preview.html")
def digests_preview_html(digest_id: int) -> Response:
    digest = db.get_or_404(Digest, digest_id)
    return sandboxed_html(render.preview(digest, current_user.email).html)


@bp.post("/digests/<int:digest_id>/test")
def digests_test(digest_id: int) -> WerkzeugResponse:
    digest = db.get_or_404(Digest, digest_id)
    if not digest.items:
        flash(_("Add some points before sending a test."), "error")
    else:
        with saving() as attempt:
            render.send_test(digest, current_user.email, current_user.name)
        if attempt.ok:
            flash(
                _("A test copy is on its way to %(address)s.", address=current_user.email),
                "success",
            )
    return redirect(url_for("staff.digests_preview", digest_id=digest.id))


@bp.route("/digests/<int:digest_id>/delete", methods=["GET", "POST"])
def digests_delete(digest_id: int) -> str | WerkzeugResponse:
    digest = db.get_or_404(Digest, digest_id)
    form = ButtonForm()
    if form.validate_on_submit():
        with saving() as attempt:
            digests.delete_digest(digest)
        if not attempt.ok:
            return _back(digest.id)
        flash(_("Draft deleted."), "success")
        return redirect(url_for("staff.digests_index"))
    return render_template("staff/digests/delete.html", digest=digest, form=form)
