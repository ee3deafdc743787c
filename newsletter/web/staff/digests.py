"""The digest composer: texts and lists, quoted points in order, preview, test send."""

from __future__ import annotations

import re

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from newsletter.digests import render
from newsletter.digests import services as digests
from newsletter.digests.models import Digest, DigestItem
from newsletter.extensions import db
from newsletter.sessions import services as sessions
from newsletter.subscriptions import lists as list_service
from newsletter.web.formtools import saving
from newsletter.web.framing import sandboxed_html
from newsletter.web.staff import bp
from newsletter.web.staff.forms import ButtonForm, DigestForm, ItemTextForm, NewDigestForm

MAX_ID = 2**31 - 1  # the largest id a column holds
_ID_RE = re.compile(r"0*([0-9]{1,10})")


def _id(value: str) -> int | None:
    """A row id sent by a form (ASCII digits, within a column's range), else None."""
    match = _ID_RE.fullmatch(value)
    number = int(match.group(1)) if match else 0
    return number if 0 < number <= MAX_ID else None


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
    digest = db.get_or_404(Digest, digest_id)
    form = DigestForm()
    form.lists.set_lists(list_service.all_lists())
    if request.method == "GET":
        form.subject.data = digest.subject
        form.preheader.data = digest.preheader
        form.intro.data = digest.intro
        form.outro.data = digest.outro
        form.lists.data = [lst.slug for lst in digest.lists]
    elif form.validate_on_submit():
        with saving(form) as attempt:
            digests.update_digest(
                digest,
                subject=form.subject.data or "",
                preheader=form.preheader.data or "",
                intro=form.intro.data or "",
                outro=form.outro.data or "",
                list_slugs=form.lists.data or [],
            )
        if attempt.ok:
            flash("Digest saved.", "success")
            return _back(digest.id)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "staff/digests/edit.html",
        digest=digest,
        form=form,
        item_form=ItemTextForm(formdata=None),
        button=ButtonForm(),
        sessions=sessions.all_sessions(),
        chosen={item.point_id for item in digest.items},
    ), status


@bp.post("/digests/<int:digest_id>/points")
def digests_add_points(digest_id: int) -> WerkzeugResponse:
    digest = db.get_or_404(Digest, digest_id)
    raw = request.form.getlist("point_ids")
    if not raw:
        flash("Tick the points to add first.", "error")
        return _back(digest.id, "add-points")
    point_ids = [_id(value) for value in raw]
    if None in point_ids:
        abort(400, "The chosen points were not understood.")
    with saving() as attempt:
        added = digests.add_points(digest, [point_id for point_id in point_ids if point_id])
    if attempt.ok:
        flash(f"Added {added} point(s).", "success")
    return _back(digest.id, "items")


def _item_action(item_id: int, action: str) -> WerkzeugResponse:
    item = db.get_or_404(DigestItem, item_id)
    digest_id = item.digest_id
    with saving():
        if action == "move":
            digests.move_item(item, -1 if request.form.get("direction") == "up" else 1)
        elif action == "remove":
            digests.remove_item(item)
        else:
            form = ItemTextForm()
            text = None if request.form.get("reset") else (form.text.data or "")
            digests.set_item_text(item, text)
    return _back(digest_id, "items")


@bp.post("/digest-items/<int:item_id>/move")
def digest_items_move(item_id: int) -> WerkzeugResponse:
    return _item_action(item_id, "move")


@bp.post("/digest-items/<int:item_id>/remove")
def digest_items_remove(item_id: int) -> WerkzeugResponse:
    return _item_action(item_id, "remove")


@bp.post("/digest-items/<int:item_id>")
def digest_items_text(item_id: int) -> WerkzeugResponse:
    return _item_action(item_id, "text")


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
        flash("Add some points before sending a test.", "error")
    else:
        with saving() as attempt:
            render.send_test(digest, current_user.email, current_user.name)
        if attempt.ok:
            flash(f"A test copy is on its way to {current_user.email}.", "success")
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
        flash("Draft deleted.", "success")
        return redirect(url_for("staff.digests_index"))
    return render_template("staff/digests/delete.html", digest=digest, form=form)
