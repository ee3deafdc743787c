"""Series, sessions and their summary points; importing a pasted summary."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from newsletter import i18n
from newsletter.digests import services as digests
from newsletter.extensions import db
from newsletter.sessions import services
from newsletter.sessions.importer import SummaryNotReadable, parse_summary
from newsletter.sessions.models import DialogueSession, Series
from newsletter.web.formtools import saving
from newsletter.web.rows import RowEdit, RowsForm, form_id, read_rows
from newsletter.web.staff import bp
from newsletter.web.staff.forms import (
    ButtonForm,
    ImportedSessionForm,
    ImportTextForm,
    SessionForm,
)


def _paragraphs(text: str | None) -> list[str]:
    blocks = (text or "").replace("\r\n", "\n").split("\n\n")
    return [" ".join(block.split()) for block in blocks if block.strip()]


def _render_form(
    template: str, form: SessionForm, status: int | None = None, **context: object
) -> tuple[str, int]:
    if status is None:
        status = 400 if form.is_submitted() else 200
    series_names = [series.name for series in services.all_series()]
    return render_template(template, form=form, series_names=series_names, **context), status


# -- sessions --------------------------------------------------------------------------


@bp.get("/sessions")
def sessions() -> str:
    return render_template("staff/sessions/index.html", sessions=services.all_sessions())


@bp.route("/sessions/new", methods=["GET", "POST"])
def sessions_new() -> Response | tuple[str, int]:
    form = SessionForm()
    if form.validate_on_submit():
        with saving(form) as attempt:
            session = services.create_session(form.to_session_data())
        if attempt.ok:
            flash(_("Session saved. Now add its summary points."), "success")
            return redirect(url_for("staff.sessions_edit", session_id=session.id))
    return _render_form("staff/sessions/new.html", form)


@bp.route("/sessions/import", methods=["GET", "POST"])
def sessions_import() -> tuple[str, int]:
    """Paste a summary: the parser fills a draft for staff to correct before saving."""
    form = ImportTextForm()
    if form.validate_on_submit():
        try:
            parsed = parse_summary(form.text.data or "")
        except SummaryNotReadable as error:
            form.text.errors.append(str(error))
        else:
            data = services.SessionData.from_parsed(parsed)
            draft = ImportedSessionForm(formdata=None)
            draft.fill_from(data)
            draft.points.data = "\n\n".join(parsed.points)
            return _render_form(
                "staff/sessions/import_review.html",
                draft,
                200,
                warnings=parsed.warnings,
                found=len(parsed.points),
                duplicate=services.find_duplicate(data),
            )
    status = 400 if form.is_submitted() else 200
    return render_template("staff/sessions/import.html", form=form), status


@bp.post("/sessions/import/save")
def sessions_import_save() -> Response | tuple[str, int]:
    """Save the checked import; one that matches a session already here is saved only
    when staff chose: update that session, or keep both."""
    form = ImportedSessionForm()
    data = form.to_session_data()
    update = form_id(request.form.get("update", ""))
    duplicate = services.find_duplicate(data)
    if form.validate_on_submit() and (duplicate is None or update or request.form.get("as_new")):
        target = db.get_or_404(DialogueSession, update) if update else None
        points = _paragraphs(form.points.data)
        with saving(form) as attempt:
            if target is not None:
                services.update_from_import(target, data, points)
                session = target
            else:
                session = services.create_session(data, points)
        if attempt.ok:
            count = len(session.points)
            if target is not None:
                done = ngettext(
                    "Updated the session with %(count)s point.",
                    "Updated the session with %(count)s points.",
                    count,
                    count=i18n.digits(str(count)),
                )
            else:
                done = ngettext(
                    "Imported the session with %(count)s point.",
                    "Imported the session with %(count)s points.",
                    count,
                    count=i18n.digits(str(count)),
                )
            flash(done, "success")
            return redirect(url_for("staff.sessions_edit", session_id=session.id))
    return _render_form(
        "staff/sessions/import_review.html", form, warnings=[], found=None, duplicate=duplicate
    )


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
def sessions_edit(session_id: int) -> Response | tuple[str, int]:
    """The session and all its points in one form with one Save: nothing typed is lost
    by saving (or moving) another part of the page."""
    session = db.get_or_404(DialogueSession, session_id)
    form = SessionForm()
    rows = RowsForm([RowEdit(point.id, point.text) for point in session.points])
    new_point = ""
    if request.method == "POST":
        rows = read_rows("point")
        new_point = request.form.get("new_point", "")
        if form.validate_on_submit():
            with saving(form) as attempt, rows.errors_beside_rows():
                services.save_session(form.to_session_data(), session)
                services.save_points(
                    session,
                    rows.texts(),
                    order=rows.order(),
                    removed=rows.removed(),
                    move=rows.move,
                    new=_paragraphs(new_point),
                )
            if attempt.ok:
                return _saved_session(session, rows)
    else:
        form.fill_from(services.SessionData.from_session(session))
    return _render_form(
        "staff/sessions/edit.html", form, session=session, rows=rows.rows, new_point=new_point
    )


def _saved_session(session: DialogueSession, rows: RowsForm) -> Response:
    removed = len(rows.removed())
    message = _("Saved the session and its points.")
    if removed:
        message += " " + ngettext(
            "Removed %(count)s point.",
            "Removed %(count)s points.",
            removed,
            count=i18n.digits(str(removed)),
        )
    flash(message, "success")
    anchor = f"point-{rows.move[0]}" if rows.move else None
    return redirect(url_for("staff.sessions_edit", session_id=session.id, _anchor=anchor))


@bp.route("/sessions/<int:session_id>/delete", methods=["GET", "POST"])
def sessions_delete(session_id: int) -> str | Response:
    session = db.get_or_404(DialogueSession, session_id)
    form = ButtonForm()
    if form.validate_on_submit():
        title = session.title
        with saving() as attempt:
            services.delete_session(session)
        if attempt.ok:
            flash(_("Deleted the session “%(title)s”.", title=title), "success")
            return redirect(url_for("staff.sessions"))
    return render_template("staff/sessions/delete.html", session=session, form=form)


@bp.post("/sessions/<int:session_id>/digest")
def sessions_digest(session_id: int) -> Response:
    session = db.get_or_404(DialogueSession, session_id)
    with saving() as attempt:
        digest = digests.create_from_session(session, current_user)
    if not attempt.ok:
        return redirect(url_for("staff.sessions_edit", session_id=session_id))
    flash(_("A draft digest with every point of the session is ready."), "success")
    return redirect(url_for("staff.digests_edit", digest_id=digest.id))


# -- series ----------------------------------------------------------------------------


@bp.get("/series")
def series() -> str:
    return render_template(
        "staff/sessions/series.html", series=services.all_series(), form=ButtonForm()
    )


@bp.post("/series/<int:series_id>")
def series_edit(series_id: int) -> Response:
    found = db.get_or_404(Series, series_id)
    with saving() as attempt:
        services.rename_series(
            found, request.form.get("name", ""), request.form.get("description", "")
        )
    if attempt.ok:
        flash(_("Series saved."), "success")
    return redirect(url_for("staff.series"))


@bp.post("/series/<int:series_id>/delete")
def series_delete(series_id: int) -> Response | str:
    found = db.get_or_404(Series, series_id)
    if not found.sessions and not request.form.get("confirmed"):  # a refusal needs no question
        return render_template(
            "staff/confirm.html",
            question=_("Delete the series “%(name)s”?", name=found.name),
            detail=_("It has no sessions. This cannot be undone."),
            button=_("Delete the series"),
            action=url_for("staff.series_delete", series_id=found.id),
            back=url_for("staff.series"),
        )
    with saving() as attempt:
        services.delete_series(found)
    if attempt.ok:
        flash(_("Series deleted."), "success")
    return redirect(url_for("staff.series"))
