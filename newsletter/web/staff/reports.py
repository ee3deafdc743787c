"""Detailed reports, for staff: each session's file and approval rule, the queue of
verified requests, decisions, the record and its CSV export."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

from newsletter.extensions import db
from newsletter.reports import decisions, erasure, files, record, storage
from newsletter.reports.models import ApprovalRule, ReportRequest, ReportVersion, RequestStatus
from newsletter.sessions.models import DialogueSession
from newsletter.web.formtools import saving
from newsletter.web.requests import origin
from newsletter.web.staff import admin_only, bp
from newsletter.web.staff.forms import (
    ButtonForm,
    DecisionForm,
    ReportRuleForm,
    ReportUploadForm,
)
from newsletter.web.uploads import report_attachment


def _actor() -> record.Actor:
    return record.Actor.staff(current_user.id, current_user.email, origin().ip)


# -- a session's report ------------------------------------------------------------------


def _session_page(
    session: DialogueSession, upload: ReportUploadForm, rule: ReportRuleForm, status: int = 200
) -> tuple[str, int]:
    report = files.report_of(session)
    if report is not None and not rule.is_submitted():
        rule.rule.data = report.approval_rule.value
        rule.domains.data = "\n".join(report.approval_domains or [])
    return render_template(
        "staff/reports/session.html",
        session=session,
        report=report,
        upload_form=upload,
        rule_form=rule,
        downloads=record.download_counts(report) if report else {},
        entries=record.report_record(report) if report else [],
        limit=storage.megabytes(int(current_app.config["REPORT_MAX_BYTES"])),
        kinds={key: kind.label for key, kind in files.KINDS.items()},
        file_size=storage.file_size,
        button=ButtonForm(),
    ), status


@bp.get("/sessions/<int:session_id>/report")
def reports_session(session_id: int) -> tuple[str, int]:
    session = db.get_or_404(DialogueSession, session_id)
    return _session_page(session, ReportUploadForm(), ReportRuleForm())


@bp.post("/sessions/<int:session_id>/report")
def reports_upload(session_id: int) -> WerkzeugResponse | tuple[str, int]:
    session = db.get_or_404(DialogueSession, session_id)
    form = ReportUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        with saving(form) as attempt:
            version = files.upload(session, upload.stream, upload.filename or "", _actor())
        if attempt.ok:
            kind = files.kind_of(version)
            flash(
                _(
                    "Version %(number)s of the report is stored (%(kind)s).",
                    number=version.number,
                    kind=kind.label,
                ),
                "success",
            )
            return redirect(url_for("staff.reports_session", session_id=session.id))
    return _session_page(session, form, ReportRuleForm(formdata=None), 400)


@bp.post("/sessions/<int:session_id>/report/rule")
def reports_rule(session_id: int) -> WerkzeugResponse | tuple[str, int]:
    session = db.get_or_404(DialogueSession, session_id)
    form = ReportRuleForm()
    if form.validate_on_submit():
        with saving(form) as attempt:
            files.set_rule(session, ApprovalRule(form.rule.data), form.domains.data or "", _actor())
        if attempt.ok:
            flash(_("The approval rule is saved."), "success")
            return redirect(url_for("staff.reports_session", session_id=session.id))
    return _session_page(session, ReportUploadForm(formdata=None), form, 400)


@bp.post("/reports/versions/<int:version_id>/file")
def reports_version_file(version_id: int) -> WerkzeugResponse:
    """A version's file, for staff to check what readers get (on record as theirs: a
    button, since fetching it changes the record)."""
    version = db.get_or_404(ReportVersion, version_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    response = report_attachment(version)
    with saving():
        files.record_staff_download(version, _actor())
    return response


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    """An upload far over the limit is refused before it is read; say what the limit is."""
    limit = storage.megabytes(int(current_app.config["REPORT_MAX_BYTES"]))
    message = _("The file is too large: a report may be at most %(limit)s.", limit=limit)
    if request.endpoint == "staff.imports_upload":
        limit = storage.megabytes(int(current_app.config["IMPORT_MAX_BYTES"]))
        message = _("The file is too large: an import may be at most %(limit)s.", limit=limit)
    elif request.endpoint != "staff.reports_upload":
        message = _("What you sent is too large.")
    return render_template("error.html", code=413, title=_("Too large"), message=message), 413


# -- the queue ---------------------------------------------------------------------------


def _status_filter() -> RequestStatus | None:
    value = request.args.get("status", RequestStatus.PENDING.value)
    if value == "all":
        return None
    try:
        return RequestStatus(value)
    except ValueError:
        abort(400, _("There is no such status."))


@bp.get("/reports")
def reports() -> str:
    status = _status_filter()
    return render_template(
        "staff/reports/index.html",
        status=status,
        statuses=[s for s in RequestStatus if s != RequestStatus.UNVERIFIED],
        counts=decisions.status_counts(),
        requests=decisions.requests_with(status),
        form=DecisionForm(formdata=None),
        reports=files.sessions_with_reports(),
    )


@bp.get("/reports/<int:request_id>")
def reports_show(request_id: int) -> str:
    found = db.get_or_404(ReportRequest, request_id)
    return render_template(
        "staff/reports/show.html",
        found=found,
        session=found.report.session,
        entries=record.request_record(found),
        grants=decisions.grants_of(found),
        form=DecisionForm(formdata=None),
        button=ButtonForm(),
    )


_DECISIONS: dict[str, tuple[Callable[[ReportRequest, str], object], str]] = {
    "approve": (
        lambda found, note: decisions.approve(found, _actor(), note),
        _l("Approved: a download link is on its way to %(email)s."),
    ),
    "decline": (
        lambda found, note: decisions.decline(found, _actor(), note),
        _l("Declined: %(email)s is told so."),
    ),
    "revoke": (
        lambda found, _note: decisions.revoke(found, _actor()),
        _l("Revoked: the links sent to %(email)s no longer work."),
    ),
}


@bp.post("/reports/<int:request_id>/<any(approve, decline, revoke):action>")
def reports_decide(request_id: int, action: str) -> WerkzeugResponse:
    found = db.get_or_404(ReportRequest, request_id)
    form = DecisionForm()
    change, message = _DECISIONS[action]
    with saving() as attempt:
        if not form.validate_on_submit():
            abort(400)
        change(found, form.note.data or "")
    if attempt.ok:
        flash(str(message) % {"email": found.email or _("the requester")}, "success")
    back = request.form.get("back") == "queue"
    if back:
        return redirect(url_for("staff.reports"))
    return redirect(url_for("staff.reports_show", request_id=request_id))


@bp.post("/reports/<int:request_id>/erase")
@admin_only
def reports_erase(request_id: int) -> WerkzeugResponse:
    """Erase the requester's personal data (and their subscription, if any)."""
    found = db.get_or_404(ReportRequest, request_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    with saving() as attempt:
        erasure.erase_requester(
            found, record.Actor.staff(current_user.id, current_user.email, None)
        )
    if attempt.ok:
        flash(
            _("The requester's personal data is erased; the record of decisions stays."), "success"
        )
    return redirect(url_for("staff.reports_show", request_id=request_id))


@bp.get("/reports/record.csv")
def reports_record() -> Response:
    """The record as CSV: of every report, or of one session's (``?session=ID``)."""
    session_id = request.args.get("session", type=int)
    report = None
    if session_id is not None:
        report = files.report_of(db.get_or_404(DialogueSession, session_id))
        if report is None:
            abort(404, _("This session has no report."))
    name = f"report-record-{report.session.slug}.csv" if report else "report-record.csv"
    response = Response(
        stream_with_context(record.export_csv(report)), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
