"""Subscribe and confirm (double opt-in)."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from newsletter import i18n
from newsletter.database import commit_with_retry
from newsletter.digests import archive
from newsletter.extensions import limiter
from newsletter.subscriptions import lists as list_service
from newsletter.subscriptions import services
from newsletter.subscriptions.emails import preferences_url
from newsletter.subscriptions.models import SubscriberStatus
from newsletter.tokens import BadToken, ExpiredToken, Purpose, read_token
from newsletter.web.afterwards import after_the_answer
from newsletter.web.formtools import saving
from newsletter.web.public import bp
from newsletter.web.public.forms import ConfirmForm, SubscribeForm
from newsletter.web.requests import origin, submitted_address


def _ip_limit() -> str:
    return str(current_app.config["SUBSCRIBE_LIMIT_PER_IP"])


def _address_limit() -> str:
    return str(current_app.config["SUBSCRIBE_LIMIT_PER_ADDRESS"])


def _subscribe_form() -> tuple[SubscribeForm, str]:
    form = SubscribeForm()
    public = list_service.public_lists()
    form.lists.set_lists(public)
    form.language.choices = i18n.choices()
    version, text = services.current_consent()
    if not form.is_submitted():
        form.consent_version.data = version
        form.lists.data = [lst.slug for lst in public if lst.is_default]
        form.language.data = i18n.current_language()  # the switcher's, or the browser's
    return form, text


@bp.get("/")
def index() -> str:
    form, consent_text = _subscribe_form()
    return render_template(
        "public/index.html", form=form, consent_text=consent_text, recent=archive.latest(5)
    )


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"])
@limiter.limit(_address_limit, methods=["POST"], key_func=submitted_address)
def subscribe() -> str | Response | tuple[str, int]:
    form, consent_text = _subscribe_form()
    if form.validate_on_submit():
        if form.website.data:  # a bot filled the honeypot: answer as usual, do nothing
            return redirect(url_for("public.subscribe_sent"))
        request_ = services.SubscribeRequest(
            email=form.email.data or "",
            name=form.name.data or "",
            organisation=form.organisation.data or "",
            list_slugs=form.lists.data or [],
            consent_version=form.consent_version.data or "",
            language=form.language.data or "",
        )
        with saving(form) as attempt:
            checked = services.check_subscription(request_)  # reads only
        if attempt.ok:
            # The same answer, at the same speed, whether the address is new, pending,
            # active or refused: what depends on it happens after the answer (where two
            # posts for one new address race, the loser runs again and finds the row).
            where = origin()
            after_the_answer(
                lambda: commit_with_retry(lambda: services.apply_subscription(checked, where)),
                "a subscription request",
            )
            return redirect(url_for("public.subscribe_sent"))
    status = 400 if form.is_submitted() else 200
    return render_template("public/subscribe.html", form=form, consent_text=consent_text), status


@bp.get("/subscribe/sent")
def subscribe_sent() -> str:
    return render_template("public/subscribe_sent.html")


def _confirm_payload(token: str) -> str:
    hours = int(current_app.config["CONFIRM_TOKEN_MAX_AGE_HOURS"])
    return read_token(Purpose.CONFIRM, token, max_age=hours * 3600)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> str | tuple[str, int]:
    """GET shows one button and changes nothing (mail scanners fetch links); POST confirms."""
    try:
        public_id = _confirm_payload(token)
    except ExpiredToken:
        return render_template("public/confirm_expired.html", token=token, form=ConfirmForm()), 400
    except BadToken:
        return render_template("public/link_invalid.html"), 400

    form = ConfirmForm()
    subscriber = services.subscriber_by_public_id(public_id)
    if subscriber is not None:
        i18n.fix_language(_asked_language(subscriber))
    if request.method == "GET":
        if subscriber is None or subscriber.status not in (
            SubscriberStatus.PENDING,
            SubscriberStatus.ACTIVE,
        ):
            return render_template("public/link_invalid.html", gone=True), 410
        return render_template(
            "public/confirm.html",
            form=form,
            already=subscriber.status == SubscriberStatus.ACTIVE,
            lists=[lst.name for lst in services.lists_to_confirm(subscriber)],
        )
    if not form.validate_on_submit():
        abort(400)
    try:
        with saving(page=True):
            subscriber, _ = services.confirm_subscription(public_id, origin())
    except services.LinkNoLongerValid:
        return render_template("public/link_invalid.html", gone=True), 410
    return render_template(
        "public/confirmed.html",
        preferences_url=preferences_url(subscriber),
    )


def _asked_language(subscriber: object) -> str:
    """The language the pending request asked for (held until confirmed), else theirs."""
    held = getattr(subscriber, "held_changes", None) or {}
    return str(held.get("language") or getattr(subscriber, "language", ""))


@bp.get("/language/<lang>")
def choose_language(lang: str) -> Response:
    """The switcher: remember the language in a cookie for a year and go back (a
    preference of this browser, nothing stored: a GET, like any link)."""
    from newsletter.web.safety import safe_next

    chosen = i18n.known(lang)
    if chosen is None:
        abort(
            404, f"There is no page in {lang[:40]!r}: choose one of {', '.join(i18n.languages())}."
        )
    response = redirect(safe_next(request.args.get("next"), url_for("public.index")))
    response.set_cookie(
        i18n.COOKIE,
        chosen,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["BASE_URL"].startswith("https:"),
        httponly=True,
    )
    return response


@bp.post("/confirm/<token>/resend")
@limiter.limit(_ip_limit)
def confirm_resend(token: str) -> Response:
    """A fresh link for an expired one; the answer is the same whatever the state."""
    try:
        public_id = _confirm_payload(token)
    except ExpiredToken as expired:
        public_id = expired.payload
    except BadToken:
        abort(400, "This link is not one of ours. Please subscribe again with the form.")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with saving(page=True):
        services.resend_confirmation(public_id)
    return redirect(url_for("public.subscribe_sent"))
