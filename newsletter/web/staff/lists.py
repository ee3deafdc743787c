"""Mailing lists in the browser: each list's figures for everyone; creating, editing,
choosing the default, archiving, restoring and deleting for admins."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsletter.extensions import db
from newsletter.subscriptions import lists as list_service
from newsletter.subscriptions import stats
from newsletter.subscriptions.models import MailingList
from newsletter.web.formtools import saving
from newsletter.web.staff import admin_only, bp
from newsletter.web.staff.subscriber_forms import ListForm, NewListForm


def _index(form: NewListForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "staff/lists/index.html", figures=stats.list_overview(), form=form
    ), status


@bp.get("/lists")
def lists() -> tuple[str, int]:
    return _index(NewListForm(formdata=None, is_public=True))


@bp.post("/lists")
@admin_only
def lists_create() -> Response | tuple[str, int]:
    form = NewListForm()
    if form.validate_on_submit():
        with saving(form) as attempt:
            created = list_service.create_list(
                form.slug.data or "",
                form.name.data or "",
                form.description.data or "",
                public=bool(form.is_public.data),
                default=bool(form.is_default.data),
            )
        if attempt.ok:
            flash(_("Created the list %(name)s.", name=created.name), "success")
            return redirect(url_for("staff.lists"))
    return _index(form, 400)


@bp.route("/lists/<int:list_id>", methods=["GET", "POST"])
@admin_only
def lists_edit(list_id: int) -> Response | tuple[str, int]:
    mailing_list = db.get_or_404(MailingList, list_id)
    form = ListForm()
    if request.method == "GET":
        form = ListForm(formdata=None, obj=mailing_list)
    elif form.validate_on_submit():
        with saving(form) as attempt:
            list_service.update_list(
                mailing_list,
                name=form.name.data or "",
                description=form.description.data or "",
                public=bool(form.is_public.data),
                default=bool(form.is_default.data),
            )
        if attempt.ok:
            flash(_("Saved the list %(name)s.", name=mailing_list.name), "success")
            return redirect(url_for("staff.lists"))
    return render_template(
        "staff/lists/edit.html",
        form=form,
        mailing_list=mailing_list,
        sent=list_service.digests_sent_to(mailing_list),
    ), (400 if form.is_submitted() else 200)


@bp.post("/lists/<int:list_id>/archive")
@admin_only
def lists_archive(list_id: int) -> Response:
    mailing_list = db.get_or_404(MailingList, list_id)
    with saving() as attempt:
        list_service.archive_list(mailing_list)
    if attempt.ok:
        flash(
            _("Archived %(name)s: offered nowhere, sent to by no digest.", name=mailing_list.name),
            "success",
        )
    return redirect(url_for("staff.lists"))


@bp.post("/lists/<int:list_id>/restore")
@admin_only
def lists_restore(list_id: int) -> Response:
    mailing_list = db.get_or_404(MailingList, list_id)
    with saving() as attempt:
        list_service.restore_list(mailing_list)
    if attempt.ok:
        flash(_("Restored %(name)s.", name=mailing_list.name), "success")
    return redirect(url_for("staff.lists"))


@bp.post("/lists/<int:list_id>/delete")
@admin_only
def lists_delete(list_id: int) -> Response:
    mailing_list = db.get_or_404(MailingList, list_id)
    name = mailing_list.name
    with saving() as attempt:
        list_service.delete_list(mailing_list)
    if attempt.ok:
        flash(_("Deleted the list %(name)s.", name=name), "success")
        return redirect(url_for("staff.lists"))
    return redirect(url_for("staff.lists_edit", list_id=list_id))
