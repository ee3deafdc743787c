"""Importing subscribers from a CSV file in the browser (admins): upload, preview and
options, then the run in the background with its progress and report."""

from __future__ import annotations

from flask import (
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from newsletter.extensions import db
from newsletter.reports.storage import megabytes
from newsletter.subscriptions import imports
from newsletter.subscriptions import lists as list_service
from newsletter.subscriptions.models import ImportJob, ImportStatus
from newsletter.web.formtools import saving
from newsletter.web.staff import admin_only, bp
from newsletter.web.staff.forms import ButtonForm, ImportOptionsForm, ImportUploadForm


def _limit() -> str:
    return megabytes(int(current_app.config["IMPORT_MAX_BYTES"]))


def _index(form: ImportUploadForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "staff/imports/index.html", form=form, jobs=imports.recent_jobs(), limit=_limit()
    ), status


@bp.get("/import")
@admin_only
def imports_index() -> tuple[str, int]:
    return _index(ImportUploadForm())


@bp.post("/import")
@admin_only
def imports_upload() -> WerkzeugResponse | tuple[str, int]:
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _index(form, 400)
    upload = form.file.data
    with saving(form) as attempt:
        job = imports.store_upload(
            upload.stream, upload.filename or "", current_user.id, current_user.email
        )
    if not attempt.ok:
        return _index(form, 400)
    return redirect(url_for("staff.imports_show", job_id=job.id))


def _options_form() -> ImportOptionsForm:
    form = ImportOptionsForm()
    all_lists = list_service.all_lists()
    form.lists.set_lists(all_lists)
    if not form.is_submitted():
        form.lists.data = [lst.slug for lst in all_lists if lst.is_default]
    return form


def _show(job: ImportJob, form: ImportOptionsForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "staff/imports/show.html",
        job=job,
        form=form,
        button=ButtonForm(),
        preview=imports.file_preview(job) if job.status == ImportStatus.UPLOADED else None,
        progress=imports.progress(job),
        rejected=imports.rejections(job),
    ), status


@bp.get("/import/<int:job_id>")
@admin_only
def imports_show(job_id: int) -> tuple[str, int]:
    imports.mark_stale()
    job = db.get_or_404(ImportJob, job_id)
    return _show(job, _options_form())


@bp.post("/import/<int:job_id>/start")
@admin_only
def imports_start(job_id: int) -> WerkzeugResponse | tuple[str, int]:
    job = db.get_or_404(ImportJob, job_id)
    form = _options_form()
    if not form.validate_on_submit():
        return _show(job, form, 400)
    consented = form.consent.data == "consented"
    with saving(form) as attempt:
        lists = list_service.resolve_lists(form.lists.data or [], public_only=False)
        imports.start(
            job,
            lists,
            consent_note=(form.consent_note.data or "") if consented else None,
            dry_run=form.dry_run.data,
        )
    if not attempt.ok:
        return _show(job, form, 400)
    imports.dispatch(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]
    return redirect(url_for("staff.imports_show", job_id=job.id))


@bp.post("/import/<int:job_id>/again")
@admin_only
def imports_again(job_id: int) -> WerkzeugResponse:
    job = db.get_or_404(ImportJob, job_id)
    with saving() as attempt:
        copy = imports.again(job)
    if not attempt.ok:
        return redirect(url_for("staff.imports_show", job_id=job_id))
    imports.dispatch(current_app._get_current_object(), copy.id)  # type: ignore[attr-defined]
    flash(_("Importing the same file for real."), "success")
    return redirect(url_for("staff.imports_show", job_id=copy.id))


@bp.get("/import/<int:job_id>/progress.json")
@admin_only
def imports_progress(job_id: int) -> Response:
    imports.mark_stale()
    job = db.get_or_404(ImportJob, job_id)
    response = jsonify(imports.progress(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/import/<int:job_id>/rejected.csv")
@admin_only
def imports_rejected(job_id: int) -> Response:
    job = db.get_or_404(ImportJob, job_id)
    response = Response(
        stream_with_context(imports.rejections_csv(job)), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="import-{job.id}-rejected.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
