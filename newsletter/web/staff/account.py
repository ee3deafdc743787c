"""Logging in and out, and one's own password."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from newsletter.auth import services as auth
from newsletter.extensions import limiter
from newsletter.web.formtools import saving
from newsletter.web.safety import safe_next
from newsletter.web.staff import bp
from newsletter.web.staff.forms import ButtonForm, LoginForm, PasswordForm

FAILED = "Email or password is incorrect."


def _account_key() -> str:
    return "login:" + request.form.get("email", "").strip().lower()[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=_account_key
)
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    target = safe_next(form.next.data, url_for("staff.home"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    if form.validate_on_submit():
        with saving(form) as attempt:
            user = auth.authenticate(form.email.data or "", form.password.data or "")
        if attempt.ok:
            if user is not None:
                login_user(user)
                return redirect(target)
            form.form_errors.append(FAILED)
    status = 400 if form.is_submitted() else 200
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    flash("You are logged out.", "success")
    return redirect(url_for("staff.login"))


@bp.route("/account", methods=["GET", "POST"])
def account() -> str | Response | tuple[str, int]:
    form = PasswordForm()
    if form.validate_on_submit():
        if auth.authenticate(current_user.email, form.current.data or "") is None:
            form.current.errors.append("That is not your current password.")
        else:
            with saving(form) as attempt:
                auth.set_password(current_user, form.password.data or "")
            if attempt.ok:
                login_user(current_user)  # the session's identity changed with the version
                flash("Your password is changed; other sessions are logged out.", "success")
                return redirect(url_for("staff.account"))
    status = 400 if form.is_submitted() else 200
    return render_template("staff/account.html", form=form, logout_form=ButtonForm()), status
