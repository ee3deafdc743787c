"""Staff accounts, for admins: add, change role, deactivate."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from newsletter.auth import services as auth
from newsletter.auth.models import Role, StaffUser
from newsletter.extensions import db
from newsletter.web.formtools import saving
from newsletter.web.staff import admin_only, bp
from newsletter.web.staff.forms import StaffEditForm, StaffForm, StaffPasswordForm
from newsletter.words import label


@bp.route("/people", methods=["GET", "POST"])
@admin_only
def people() -> str | Response | tuple[str, int]:
    form = StaffForm()
    if form.validate_on_submit():
        with saving(form) as attempt:
            user = auth.create_staff(
                form.email.data or "",
                form.password.data or "",
                role=Role(form.role.data),
                name=form.name.data or "",
            )
        if attempt.ok:
            flash(
                _(
                    "Added %(address)s as %(role)s.",
                    address=user.email,
                    role=label(user.role).lower(),
                ),
                "success",
            )
            return redirect(url_for("staff.people"))
    status = 400 if form.is_submitted() else 200
    return render_template("staff/people.html", form=form, people=auth.all_staff()), status


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@admin_only
def person(user_id: int) -> str | Response | tuple[str, int]:
    user = db.get_or_404(StaffUser, user_id)
    form = StaffEditForm()
    if request.method == "GET":
        form.role.data = user.role.value
        form.active.data = user.is_active
    elif form.validate_on_submit():
        with saving(form) as attempt:
            auth.update_staff(
                current_user, user, role=Role(form.role.data), active=bool(form.active.data)
            )
        if attempt.ok:
            flash(_("Saved %(address)s.", address=user.email), "success")
            return redirect(url_for("staff.people"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "staff/person.html", form=form, user=user, password_form=StaffPasswordForm(formdata=None)
    ), status


@bp.post("/people/<int:user_id>/password")
@admin_only
def person_password(user_id: int) -> str | Response | tuple[str, int]:
    """An admin sets a new password for someone who lost theirs; their sessions end."""
    user = db.get_or_404(StaffUser, user_id)
    password_form = StaffPasswordForm()
    if user.id == current_user.id:
        abort(400, _("Change your own password on your account page."))
    if password_form.validate_on_submit():
        with saving(password_form) as attempt:
            auth.set_password(user, password_form.password.data or "")
        if attempt.ok:
            flash(
                _("New password set for %(address)s; tell it to them.", address=user.email),
                "success",
            )
            return redirect(url_for("staff.person", user_id=user.id))
    form = StaffEditForm(formdata=None, role=user.role.value, active=user.is_active)
    return render_template(
        "staff/person.html", form=form, user=user, password_form=password_form
    ), 400
