"""Leaving (RFC 8058 one-click), coming back, preferences and erasure, from signed links."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from newsletter import i18n
from newsletter.extensions import csrf
from newsletter.subscriptions import lists as list_service
from newsletter.subscriptions import services
from newsletter.subscriptions.emails import preferences_url
from newsletter.subscriptions.models import Subscriber, SubscriberStatus
from newsletter.tokens import BadToken, Purpose, read_token
from newsletter.web.formtools import saving
from newsletter.web.public import bp
from newsletter.web.public.forms import ConfirmForm, EraseForm, PreferencesForm
from newsletter.web.requests import origin

ONE_CLICK = "List-Unsubscribe=One-Click"


class BadLink(BadRequest):
    name = _l("This link does not work")
    description = _l(
        "This link is damaged or is not one of ours. Please use the link from "
        "one of our emails as it was sent."
    )


def _subscriber(purpose: Purpose, token: str) -> Subscriber | None:
    """The subscriber a signed link names (None once erased); 400 for a forged link.
    The rest of the page speaks their language."""
    try:
        public_id = read_token(purpose, token)
    except BadToken as error:
        raise BadLink from error
    subscriber = services.subscriber_by_public_id(public_id)
    if subscriber is not None:
        i18n.fix_language(subscriber.language)
    return subscriber


def _is_one_click(req_form: dict[str, str], raw: bytes) -> bool:
    """RFC 8058: the body names ``List-Unsubscribe=One-Click``, as a urlencoded or
    multipart form field, or as a raw body some receivers send."""
    if req_form.get("List-Unsubscribe") == "One-Click":
        return True
    return ONE_CLICK.encode() in raw


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> str:
    """One button and no change: link scanners fetch every URL in a message."""
    subscriber = _subscriber(Purpose.UNSUBSCRIBE, token)
    return render_template(
        "public/unsubscribe.html",
        token=token,
        subscriber=subscriber,
        active=subscriber is not None
        and subscriber.status in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING),
    )


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # mail providers POST here with no cookie and no form token (RFC 8058)
def unsubscribe_post(token: str) -> tuple[str, int]:
    """Unsubscribe at once and answer 200 (never a redirect); repeating it is harmless."""
    raw = request.get_data(cache=True)  # read first: form parsing would consume it
    subscriber = _subscriber(Purpose.UNSUBSCRIBE, token)
    if not _is_one_click(request.form.to_dict(), raw):
        abort(400, _("To unsubscribe, send %(body)s in the request body.", body=ONE_CLICK))
    if subscriber is not None:
        with saving(page=True):
            services.unsubscribe(subscriber, origin(), note="unsubscribe link")
    return render_template(
        "public/unsubscribed.html",
        token=token,
        form=ConfirmForm(),
        can_come_back=subscriber is not None and subscriber.status == SubscriberStatus.UNSUBSCRIBED,
        preferences_url=preferences_url(subscriber) if subscriber else None,
    ), 200


@bp.post("/unsubscribe/<token>/resubscribe")
def resubscribe(token: str) -> str | tuple[str, int]:
    subscriber = _subscriber(Purpose.UNSUBSCRIBE, token)
    if subscriber is None:
        return render_template("public/link_invalid.html", gone=True), 410
    with saving(page=True):
        services.resubscribe(subscriber, origin())
    return render_template("public/resubscribed.html", preferences_url=preferences_url(subscriber))


@bp.route("/preferences/<token>", methods=["GET", "POST"])
def preferences(token: str) -> str | Response | tuple[str, int]:
    subscriber = _subscriber(Purpose.PREFERENCES, token)
    if subscriber is None:
        return render_template("public/link_invalid.html", gone=True), 410
    form = PreferencesForm(obj=subscriber if request.method == "GET" else None)
    public = list_service.public_lists()
    form.lists.set_lists(public)
    form.language.choices = i18n.choices()
    active = subscriber.status == SubscriberStatus.ACTIVE
    if request.method == "GET":
        form.lists.data = [m.mailing_list.slug for m in subscriber.memberships] if active else []
        form.language.data = i18n.or_default(subscriber.language)
    elif form.validate_on_submit():
        # Joining a list again races a second tab doing the same: the loser runs again.
        with saving(form, retries=3) as attempt:
            attempt.run(
                services.update_preferences,
                subscriber,
                name=form.name.data or "",
                organisation=form.organisation.data or "",
                list_slugs=form.lists.data or [],
                origin=origin(),
                language=form.language.data or "",
            )
        if attempt.ok:
            i18n.fix_language(subscriber.language)
            flash(_("Your preferences are saved."), "success")
            return redirect(url_for("public.preferences", token=token))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "public/preferences.html",
        form=form,
        token=token,
        subscriber=subscriber,
        active=active,
        consent_text=services.current_consent()[1],
    ), status


@bp.route("/preferences/<token>/erase", methods=["GET", "POST"])
def erase(token: str) -> str | tuple[str, int]:
    subscriber = _subscriber(Purpose.PREFERENCES, token)
    if subscriber is None:
        return render_template("public/erased.html")
    form = EraseForm()
    if form.validate_on_submit():
        with saving(form) as attempt:
            services.erase_subscriber(subscriber)
        if attempt.ok:
            return render_template("public/erased.html")
    status = 400 if form.is_submitted() else 200
    return render_template("public/erase.html", form=form, token=token), status
