"""The web layer: blueprints, error pages and the headers every response carries."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from newsletter.extensions import db, login_manager
from newsletter.validation import InvalidInput

log = logging.getLogger(__name__)

TOO_MANY_REQUESTS = 429

# What a person sees for each error; never a stack trace or an internal detail.
_MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You are not allowed to do that."),
    404: _l("There is nothing at this address."),
    405: _l("This page cannot be used that way."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. Nothing you sent was lost; please try again."),
}

# Page titles: words for people, not HTTP's reason phrases ("Bad Request").
_TITLES = {
    400: _l("This request could not be used"),
    401: _l("Please log in"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Not available this way"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}

_CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
    "script-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)
_HSTS = "max-age=31536000"  # a year; subdomains are the operator's to opt in

# Pages reached by a personal (signed) link: like staff pages, never kept by a browser
# or a proxy, so the next user of a shared computer cannot go back to them.
PERSONAL_ENDPOINTS = frozenset(
    {
        "public.confirm",
        "public.confirm_resend",
        "public.unsubscribe",
        "public.unsubscribe_post",
        "public.resubscribe",
        "public.preferences",
        "public.erase",
    }
)
_PRIVATE_BLUEPRINTS = frozenset({"staff", "outbox"})


class DatabaseInt(IntegerConverter):
    """``<int:…>`` in every route: ids beyond what the database's integer columns hold
    are 404 like any unknown id (not an overflow inside the database driver)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    from newsletter.mailing.transport import uses_outbox
    from newsletter.web import filters, outbox, public, staff
    from newsletter.web.uploads import UploadAwareRequest

    if app.config["PROXY_FIX_X_FOR"]:
        count = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    app.request_class = UploadAwareRequest
    app.url_map.converters["int"] = DatabaseInt
    app.before_request(_refuse_nul)
    app.register_blueprint(public.bp)
    app.register_blueprint(staff.bp)
    _init_login(app)
    if uses_outbox(app):
        app.register_blueprint(outbox.bp)

    app.add_url_rule("/healthz", "healthz", _healthz)
    if app.config["SEND_BACKGROUND"]:
        app.before_request(_start_background_sending)
    app.register_error_handler(HTTPException, _http_error)
    # The net under ``formtools.saving``: a refusal no view turned into a form error or
    # a flash is still a 400 with its reason, never a 500.
    app.register_error_handler(InvalidInput, _refused)
    # Unhandled exceptions reach this as a 500 (Flask has logged them); with TESTING they
    # propagate instead, so a test sees the real exception.
    app.register_error_handler(InternalServerError, _server_error)
    app.after_request(_security_headers)
    app.context_processor(_site_context)
    filters.init_app(app)


def _init_login(app: Flask) -> None:
    from newsletter.auth.services import load_session_user

    login_manager.init_app(app)
    login_manager.user_loader(load_session_user)
    login_manager.session_protection = "basic"


def _start_background_sending() -> None:
    """The embedded default sends from the web process: its clock starts with the first
    request (so neither commands nor tests start threads by importing the app)."""
    from newsletter.delivery import execution

    execution.ensure_ticker(current_app._get_current_object())  # type: ignore[attr-defined]


def _healthz() -> Response:
    """For load balancers (and the benchmarks' baseline): answers without any I/O."""
    return Response("ok\n", mimetype="text/plain")


def _site_context() -> dict[str, object]:
    from newsletter.settings import services as site_settings

    site = site_settings.current()
    return {
        "outbox_enabled": "outbox" in current_app.blueprints,
        "site": site,
        "site_name": site.site_name,
        "organisation_name": site.organisation_name,
    }


def _http_error(error: HTTPException) -> tuple[str, int] | Response:
    code = error.code or 500
    if isinstance(error, CSRFError):
        message = _l(
            "This form has expired or was sent from elsewhere. "
            "Please reload the page and try again."
        )
    elif (
        code == TOO_MANY_REQUESTS
    ):  # Flask-Limiter describes the limit itself; say what to do instead
        message = _MESSAGES[TOO_MANY_REQUESTS]
    elif type(error).__module__.startswith("newsletter."):
        message = error.description or _MESSAGES.get(code, error.name)  # our own refusal
    else:
        # Our own aborts carry a description written for the reader; werkzeug's defaults
        # are replaced by plainer words.
        default = type(error).description
        own = error.description if error.description != default else None
        message = own or _MESSAGES.get(code, error.name)
    message = str(message)
    if request.accept_mimetypes.best == "application/json":
        response = jsonify(error=message)
        response.status_code = code
        return response
    # A refusal class of ours names itself ("This link does not work"); werkzeug's don't.
    own_name = type(error).__module__.startswith("newsletter.")
    title = str(error.name if own_name else _TITLES.get(code, error.name))
    return render_template("error.html", code=code, title=title, message=message), code


def _refused(error: InvalidInput) -> tuple[str, int] | Response:
    """A refusal of the domain (input a person must correct): nothing is kept, and the
    answer says why."""
    db.session.rollback()
    return _http_error(BadRequest(description=str(error)))


def _server_error(_error: InternalServerError) -> tuple[str, int]:
    """A fault of ours: the transaction is rolled back and the page says nothing internal."""
    db.session.rollback()
    return render_template("error.html", code=500, title=_TITLES[500], message=_MESSAGES[500]), 500


def _refuse_nul() -> None:
    """A NUL byte in the address or the query string is never ours (PostgreSQL cannot
    even compare text with one): 400 with a reason, before any view reads it."""
    values = [request.path, *request.args.keys(), *request.args.values()]
    if any("\x00" in value for value in values):
        abort(400, _l("The address contains a NUL character."))


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    if current_app.config["BASE_URL"].startswith("https:"):
        headers.setdefault("Strict-Transport-Security", _HSTS)
    if request.blueprint in _PRIVATE_BLUEPRINTS or request.endpoint in PERSONAL_ENDPOINTS:
        headers["Cache-Control"] = "no-store"
    return response
