"""Series, sessions and their summary points; importing a pasted summary."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from newsletter.digests import services as digests
from newsletter.extensions import db
from newsletter.sessions import services
from newsletter.sessions.importer import SummaryNotReadable, parse_summary
from newsletter.sessions.models import DialogueSession, Series, SummaryPoint
from newsletter.validation import InvalidInput
from newsletter.web.formtools import saving
from newsletter.web.staff import bp
from newsletter.web.staff.forms import (
    ButtonForm,
    ImportedSessionForm,
    ImportTextForm,
    PointForm,
    SessionForm,
)


def _paragraphs(text: str | None) -> list[str]:
    blocks = (text or "").replace("\r\n", "\n").split("\n\n")
    return [" ".join(block.split()) for block in blocks if block.strip()]


def _render_form(template: str, form: SessionForm, **context: object) -> tuple[str, int]:
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
            flash("Session saved. Now add its summary points.", "success")
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
            draft = ImportedSessionForm(formdata=None)
            draft.fill_from(services.SessionData.from_parsed(parsed))
            draft.points.data = "\n\n".join(parsed.points)
            return render_template(
                "staff/sessions/import_review.html",
                form=draft,
                warnings=parsed.warnings,
                found=len(parsed.points),
                series_names=[series.name for series in services.all_series()],
            ), 200
    status = 400 if form.is_submitted() else 200
    return render_template("staff/sessions/import.html", form=form), status


@bp.post("/sessions/import/save")
def sessions_import_save() -> Response | tuple[str, int]:
    form = ImportedSessionForm()
    if form.validate_on_submit():
        with saving(form) as attempt:
            session = services.create_session(form.to_session_data(), _paragraphs(form.points.data))
        if attempt.ok:
            flash(f"Imported the session with {len(session.points)} points.", "success")
            return redirect(url_for("staff.sessions_edit", session_id=session.id))
    return _render_form("staff/sessions/import_review.html", form, warnings=[], found=None)


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
def sessions_edit(session_id: int) -> Response | tuple[str, int]:
    session = db.get_or_404(DialogueSession, session_id)
    form = SessionForm()
    if request.method == "GET":
        form.fill_from(services.SessionData.from_session(session))
    elif form.validate_on_submit():
        with saving(form) as attempt:
            services.save_session(form.to_session_data(), session)
        if attempt.ok:
            flash("Session saved.", "success")
            return redirect(url_for("staff.sessions_edit", session_id=session.id))
    return _render_form(
        "staff/sessions/edit.html",
        form,
        session=session,
        point_form=PointForm(formdata=None),
        button=ButtonForm(),
    )


@bp.route("/sessions/<int:session_id>/delete", methods=["GET", "POST"])
def sessions_delete(session_id: int) -> str | Response:
    session = db.get_or_404(DialogueSession, session_id)
    form = ButtonForm()
    if form.validate_on_submit():
        title = session.title
        with saving() as attempt:
            services.delete_session(session)
        if attempt.ok:
            flash(f"Deleted the session “{title}”.", "success")
            return redirect(url_for("staff.sessions"))
    return render_template("staff/sessions/delete.html", session=session, form=form)


@bp.post("/sessions/<int:session_id>/digest")
def sessions_digest(session_id: int) -> Response:
    session = db.get_or_404(DialogueSession, session_id)
    with saving() as attempt:
        digest = digests.create_from_session(session, current_user)
    if not attempt.ok:
        return redirect(url_for("staff.sessions_edit", session_id=session_id))
    flash("A draft digest with every point of the session is ready.", "success")
    return redirect(url_for("staff.digests_edit", digest_id=digest.id))


# -- points ----------------------------------------------------------------------------


def _to_point(point: SummaryPoint) -> Response:
    return redirect(
        url_for("staff.sessions_edit", session_id=point.session_id, _anchor=f"point-{point.id}")
    )


@bp.post("/sessions/<int:session_id>/points")
def points_add(session_id: int) -> Response:
    session = db.get_or_404(DialogueSession, session_id)
    form = PointForm()
    if not form.validate_on_submit():
        flash("A summary point needs some text.", "error")
    else:
        with saving():
            services.add_point(session, form.text.data or "")
    return redirect(url_for("staff.sessions_edit", session_id=session.id, _anchor="points"))


@bp.post("/points/<int:point_id>")
def points_edit(point_id: int) -> Response:
    point = db.get_or_404(SummaryPoint, point_id)
    form = PointForm()
    with saving() as attempt:
        if not form.validate_on_submit():
            raise InvalidInput("A summary point needs some text.")
        services.update_point(point, form.text.data or "")
    if attempt.ok:
        flash("Point saved.", "success")
    return _to_point(point)


@bp.post("/points/<int:point_id>/move")
def points_move(point_id: int) -> Response:
    point = db.get_or_404(SummaryPoint, point_id)
    with saving():
        services.move_point(point, -1 if request.form.get("direction") == "up" else 1)
    return _to_point(point)


@bp.post("/points/<int:point_id>/delete")
def points_delete(point_id: int) -> Response:
    point = db.get_or_404(SummaryPoint, point_id)
    session_id = point.session_id
    with saving() as attempt:
        services.delete_point(point)
    if attempt.ok:
        flash("Point deleted.", "success")
    return redirect(url_for("staff.sessions_edit", session_id=session_id, _anchor="points"))


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
        flash("Series saved.", "success")
    return redirect(url_for("staff.series"))


@bp.post("/series/<int:series_id>/delete")
def series_delete(series_id: int) -> Response:
    found = db.get_or_404(Series, series_id)
    with saving() as attempt:
        services.delete_series(found)
    if attempt.ok:
        flash("Series deleted.", "success")
    return redirect(url_for("staff.series"))
