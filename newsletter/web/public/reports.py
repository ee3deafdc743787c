"""A session's detailed report, for readers: ask for it, verify the address, download
it from the link staff's approval sent, erase one's requests."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from newsletter.extensions import limiter
from newsletter.reports import decisions, erasure, files, services, storage
from newsletter.reports.models import ReportRequest, RequestStatus
from newsletter.subscriptions.services import current_consent
from newsletter.tokens import BadToken, ExpiredToken, Purpose, read_token
from newsletter.validation import InvalidInput, normalize_address
from newsletter.web.formtools import saving
from newsletter.web.public import bp
from newsletter.web.public.forms import ConfirmForm, EraseForm, ReportRequestForm
from newsletter.web.requests import origin
from newsletter.web.uploads import report_attachment


def _ip_limit() -> str:
    return str(current_app.config["REPORT_REQUEST_LIMIT_PER_IP"])


def _address_limit() -> str:
    return str(current_app.config["REPORT_REQUEST_LIMIT_PER_ADDRESS"])


def _address_key() -> str:
    """The per-address limit counts an address however it is written."""
    raw = request.form.get("email", "")
    try:
        key = normalize_address(raw).key
    except InvalidInput:
        key = raw.strip().lower()[:254]
    return "report-address:" + key


@bp.route("/sessions/<slug>/report", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_address_limit, methods=["POST"], key_func=_address_key)
def report_request(slug: str) -> str | Response | tuple[str, int]:
    found = files.requestable(slug)
    if found is None:
        abort(404, "There is no detailed report to ask for at this address.")
    session, report = found
    form = ReportRequestForm()
    version, consent_text = current_consent()
    if not form.is_submitted():
        form.consent_version.data = version
    if form.validate_on_submit():
        if form.website.data:  # a bot filled the honeypot: answer as usual, do nothing
            return redirect(url_for("public.report_request_sent"))
        ask = services.Ask(
            email=form.email.data or "",
            name=form.name.data or "",
            affiliation=form.affiliation.data or "",
            purpose=form.purpose.data or "",
            subscribe=bool(form.subscribe.data),
            consent_version=form.consent_version.data or "",
        )
        with saving(form, retries=3) as attempt:  # a double click races for the open key
            attempt.run(services.ask, report, ask, origin())
        if attempt.ok:
            return redirect(url_for("public.report_request_sent"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "public/report_request.html", form=form, session=session, consent_text=consent_text
    ), status


@bp.get("/reports/sent")
def report_request_sent() -> str:
    return render_template("public/report_request_sent.html")


def _verify_max_age() -> int:
    return int(current_app.config["CONFIRM_TOKEN_MAX_AGE_HOURS"]) * 3600


def _gone() -> tuple[str, int]:
    return render_template("public/report_link_gone.html"), 410


def _invalid() -> tuple[str, int]:
    return render_template("public/link_invalid.html"), 400


@bp.route("/reports/verify/<token>", methods=["GET", "POST"])
def report_verify(token: str) -> str | tuple[str, int]:
    """GET shows one button and changes nothing (mail scanners fetch links); POST verifies."""
    try:
        public_id = read_token(Purpose.REPORT_VERIFY, token, max_age=_verify_max_age())
    except ExpiredToken as expired:
        ask_again = services.request_by_public_id(expired.payload)
        slug = ask_again.report.session.slug if ask_again is not None else None
        return render_template("public/report_verify_expired.html", slug=slug), 400
    except BadToken:
        return _invalid()
    found = services.request_by_public_id(public_id)
    if found is None or found.erased_at is not None:
        return _gone()
    form = ConfirmForm()
    session = found.report.session
    if request.method == "GET":
        return render_template(
            "public/report_verify.html",
            form=form,
            session=session,
            verified=found.status != RequestStatus.UNVERIFIED,
        )
    if not form.validate_on_submit():
        abort(400)
    try:
        with saving() as attempt:
            verified = services.verify(public_id, origin())
    except services.LinkNoLongerValid:
        return _gone()
    if not attempt.ok:
        abort(400)
    return render_template(
        "public/report_verified.html",
        session=session,
        approved=verified.status == RequestStatus.APPROVED,
    )


def _download(token: str) -> decisions.Download | tuple[str, int]:
    max_age = int(current_app.config["REPORT_LINK_DAYS"]) * 86400
    try:
        public_id = read_token(Purpose.REPORT_DOWNLOAD, token, max_age=max_age)
        return decisions.open_grant(public_id)
    except (ExpiredToken, decisions.LinkExpired):
        return render_template("public/report_link_expired.html", slug=_slug_of(token)), 410
    except BadToken:
        return _invalid()
    except decisions.LinkRevoked:
        return _gone()


def _slug_of(token: str) -> str | None:
    """The session an expired link was for (to ask again), if it can still be told."""
    try:
        payload = read_token(Purpose.REPORT_DOWNLOAD, token)
    except ExpiredToken as expired:
        payload = expired.payload
    except BadToken:
        return None
    grant = decisions.grant_by_public_id(payload)
    if grant is None or grant.request.erased_at is not None:
        return None
    return str(grant.request.report.session.slug)


@bp.route("/reports/download/<token>", methods=["GET", "POST"])
def report_download(token: str) -> str | Response | tuple[str, int]:
    """GET shows what the link gives and one button (a mail scanner fetching the link
    neither gets the file nor counts as a download); POST sends the file and records it."""
    download = _download(token)
    if isinstance(download, tuple):
        return download
    version = download.version
    session = download.request.report.session
    form = ConfirmForm()
    if request.method == "GET":
        return render_template(
            "public/report_download.html",
            form=form,
            session=session,
            kind=files.kind_of(version),
            size=storage.file_size(version.size),
            expires_at=download.grant.expires_at,
        )
    if not form.validate_on_submit():
        abort(400)
    response = report_attachment(version)
    with saving():
        decisions.record_download(download, origin().ip)
    return response


def _erasable(token: str) -> ReportRequest | None:
    try:
        public_id = read_token(Purpose.REPORT_ERASE, token)
    except BadToken:
        abort(
            400,
            "This link is damaged or is not one of ours. Please use the link from "
            "one of our emails as it was sent.",
        )
    found = services.request_by_public_id(public_id)
    return None if found is None or found.erased_at is not None else found


@bp.route("/reports/erase/<token>", methods=["GET", "POST"])
def report_erase(token: str) -> str | tuple[str, int]:
    found = _erasable(token)
    if found is None:
        return render_template("public/erased.html")
    form = EraseForm()
    if form.validate_on_submit():
        with saving(form) as attempt:
            erasure.erase_requester(found)
        if attempt.ok:
            return render_template("public/erased.html")
    status = 400 if form.is_submitted() else 200
    return render_template("public/report_erase.html", form=form), status
