"""Logging in and out, and one's own password."""

from __future__ import annotations

import time

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from newsletter import i18n
from newsletter.auth import services as auth
from newsletter.auth import throttle
from newsletter.extensions import limiter
from newsletter.limitkeys import hashed
from newsletter.web.formtools import saving
from newsletter.web.requests import submitted_account
from newsletter.web.safety import safe_next
from newsletter.web.staff import bp
from newsletter.web.staff.forms import ButtonForm, LanguageForm, LoginForm, PasswordForm

FAILED = "Email or password is incorrect."


def _failed(_response: Response) -> bool:
    """Limits count wrong passwords only: a correct one never uses up a budget."""
    return bool(g.get("password_failed"))


def _password_check_key() -> str:
    return hashed("password-check", str(current_user.get_id()).partition(":")[0])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=submitted_account,
    deduct_when=_failed,
)
def login() -> str | Response | tuple[str, int]:
    """Limits refuse one client's guessing (per IP, and per IP and account); failures
    from elsewhere only slow an account down, so its owner always gets in."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    target = safe_next(form.next.data, url_for("staff.home"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target)
    if form.validate_on_submit():
        email = form.email.data or ""
        time.sleep(throttle.delay(email))
        with saving(form) as attempt:
            user = auth.authenticate(email, form.password.data or "")
            if user is None:
                throttle.record_failure(email)
        if attempt.ok:
            if user is not None:
                session.clear()  # a new session: nothing from before the login carries over
                login_user(user)
                return redirect(target)
            g.password_failed = True
            form.form_errors.append(FAILED)
    status = 400 if form.is_submitted() else 200
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    with saving():
        auth.end_sessions(current_user)
    logout_user()
    session.clear()
    flash(_("You are logged out."), "success")
    return redirect(url_for("staff.login"))


@bp.route("/account", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_password_check_key,
    deduct_when=_failed,
)
def account() -> str | Response | tuple[str, int]:
    """Changing one's password asks for the current one: a borrowed session cannot guess
    it faster than a login could (same limit, and failures count for the account)."""
    form = PasswordForm()
    if form.validate_on_submit():
        time.sleep(throttle.delay(current_user.email))
        if not auth.check_current_password(current_user, form.current.data or ""):
            g.password_failed = True
            with saving():
                throttle.record_failure(current_user.email)
            form.current.errors.append(_("That is not your current password."))
        else:
            with saving(form) as attempt:
                auth.set_password(current_user, form.password.data or "")
            if attempt.ok:
                # The session's identity changed with the version. The user itself, not the
                # proxy: ``current_user`` would otherwise resolve to itself from now on.
                login_user(current_user._get_current_object())
                flash(_("Your password is changed; other sessions are logged out."), "success")
                return redirect(url_for("staff.account"))
    status = 400 if form.is_submitted() else 200
    return _account_page(form, status)


def _account_page(form: PasswordForm, status: int) -> tuple[str, int]:
    language_form = LanguageForm(language=current_user.language)
    language_form.language.choices = [("", _("Follow my browser")), *i18n.choices()]
    return render_template(
        "staff/account.html", form=form, language_form=language_form, logout_form=ButtonForm()
    ), status


@bp.post("/account/language")
def account_language() -> Response | tuple[str, int]:
    """The interface language of this staff member's pages."""
    form = LanguageForm()
    form.language.choices = [("", _("Follow my browser")), *i18n.choices()]
    if not form.validate_on_submit():
        return _account_page(PasswordForm(formdata=None), 400)
    with saving(page=True):
        auth.set_language(current_user, form.language.data or "")
    i18n.refresh_language()
    flash(_("Your interface language is saved."), "success")
    return redirect(url_for("staff.account"))
