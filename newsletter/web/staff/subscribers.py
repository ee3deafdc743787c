"""Subscribers in staff's hands: find them, open one, change their lists, unsubscribe,
resubscribe, erase; add one (admins); export the filtered list or one person's data
(admins). Editors see and change lists; adding, exporting and erasing are an admin's."""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Flask, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from newsletter.extensions import db
from newsletter.subscriptions import casework, directory, roster
from newsletter.subscriptions import lists as list_service
from newsletter.subscriptions.models import Subscriber, SubscriberSource, SubscriberStatus
from newsletter.timeutil import utcnow
from newsletter.validation import InvalidInput
from newsletter.web.formtools import saving
from newsletter.web.staff import admin_only, bp
from newsletter.web.staff.subscriber_forms import (
    ResubscribeForm,
    SubscriberAddForm,
    SubscriberListsForm,
    UnsubscribeForm,
)


def _staff() -> str:
    return str(current_user.email)


@bp.get("/subscribers")
def subscribers() -> str:
    wanted = directory.parse_filter(request.args)
    found = directory.page(wanted, request.args.get("after") or None)
    return render_template(
        "staff/subscribers/index.html",
        wanted=wanted,
        page=found,
        after=request.args.get("after"),
        lists=list_service.all_lists(),
        statuses=list(SubscriberStatus),
        sources=list(SubscriberSource),
        sorts=directory.SORTS,
        matches=directory.MATCHES,
        contains_min=directory.CONTAINS_MIN,
    )


@bp.get("/subscribers.csv")
@admin_only
def subscribers_export() -> WerkzeugResponse:
    """The filtered list as CSV, streamed a batch at a time; the export is recorded
    (who, when, which filter) before the first byte leaves."""
    wanted = directory.parse_filter(request.args)
    with saving(page=True):
        casework.record_export(current_user.id, _staff(), "csv", wanted.args())
    name = f"subscribers-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        _streamed(current_app._get_current_object(), wanted),  # type: ignore[attr-defined]
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _streamed(app: Flask, wanted: directory.Filter) -> Iterator[str]:
    """The rows, read in an application context of their own: it exists only while the
    server iterates (and ends when it closes the response), whatever became of the
    request's."""
    with app.app_context():
        yield from directory.export_rows(wanted)


@bp.get("/subscribers/exports")
@admin_only
def subscribers_exports() -> str:
    return render_template("staff/subscribers/exports.html", exports=casework.exports())


@bp.route("/subscribers/new", methods=["GET", "POST"])
@admin_only
def subscribers_new() -> str | WerkzeugResponse | tuple[str, int]:
    form = SubscriberAddForm()
    form.lists.set_lists(list_service.active_lists())
    if request.method == "GET":
        form.lists.data = [lst.slug for lst in list_service.default_lists()]
    elif form.validate_on_submit():
        note = form.note()
        if note != "":
            with saving(form) as attempt:
                outcome = roster.add_subscriber(
                    form.email.data or "",
                    name=form.name.data or "",
                    organisation=form.organisation.data or "",
                    lists=list_service.resolve_lists(form.lists.data or [], public_only=False)
                    or list_service.default_lists(),
                    consent_note=note and f"added by staff ({_staff()}): {note}",
                    source=SubscriberSource.STAFF,
                )
            if attempt.ok:
                pending = outcome.subscriber.status == SubscriberStatus.PENDING
                address = outcome.subscriber.email
                if outcome.created:
                    done = (
                        _("Added %(address)s; a confirmation is on its way.", address=address)
                        if pending
                        else _("Added %(address)s.", address=address)
                    )
                else:
                    done = (
                        _("Updated %(address)s; a confirmation is on its way.", address=address)
                        if pending
                        else _("Updated %(address)s.", address=address)
                    )
                flash(done, "success")
                return redirect(url_for("staff.subscriber", subscriber_id=outcome.subscriber.id))
    status = 400 if form.is_submitted() else 200
    return render_template("staff/subscribers/new.html", form=form), status


def _page(
    subscriber: Subscriber,
    status: int = 200,
    *,
    lists_form: SubscriberListsForm | None = None,
    unsubscribe_form: UnsubscribeForm | None = None,
    resubscribe_form: ResubscribeForm | None = None,
) -> tuple[str, int]:
    if lists_form is None:
        lists_form = SubscriberListsForm(formdata=None)
        lists_form.lists.data = [m.mailing_list.slug for m in subscriber.memberships]
    lists_form.lists.set_lists(list_service.active_lists())
    return render_template(
        "staff/subscribers/show.html",
        record=casework.person_record(subscriber),
        lists_form=lists_form,
        unsubscribe_form=unsubscribe_form or UnsubscribeForm(formdata=None),
        resubscribe_form=resubscribe_form or ResubscribeForm(formdata=None),
    ), status


@bp.get("/subscribers/<int:subscriber_id>")
def subscriber(subscriber_id: int) -> tuple[str, int]:
    return _page(db.get_or_404(Subscriber, subscriber_id))


def _back(subscriber_id: int) -> WerkzeugResponse:
    return redirect(url_for("staff.subscriber", subscriber_id=subscriber_id))


@bp.post("/subscribers/<int:subscriber_id>/lists")
def subscriber_lists(subscriber_id: int) -> WerkzeugResponse | tuple[str, int]:
    subscriber = db.get_or_404(Subscriber, subscriber_id)
    form = SubscriberListsForm()
    form.lists.set_lists(list_service.active_lists())
    if form.validate_on_submit():
        with saving(form) as attempt:
            lists = list_service.resolve_lists(form.lists.data or [], public_only=False)
            changed = casework.change_lists(subscriber, lists, _staff())
        if attempt.ok:
            flash(
                _("Lists saved.") if changed else _("The lists were as chosen already."), "success"
            )
            return _back(subscriber_id)
    return _page(subscriber, 400, lists_form=form)


@bp.post("/subscribers/<int:subscriber_id>/unsubscribe")
def subscriber_unsubscribe(subscriber_id: int) -> WerkzeugResponse | tuple[str, int]:
    subscriber = db.get_or_404(Subscriber, subscriber_id)
    form = UnsubscribeForm()
    if form.validate_on_submit():
        with saving(form) as attempt:
            casework.staff_unsubscribe(subscriber, _staff(), form.reason.data or "")
        if attempt.ok:
            flash(f"{subscriber.email} is unsubscribed: no more mail.", "success")
            return _back(subscriber_id)
    return _page(subscriber, 400, unsubscribe_form=form)


@bp.post("/subscribers/<int:subscriber_id>/resubscribe")
def subscriber_resubscribe(subscriber_id: int) -> WerkzeugResponse | tuple[str, int]:
    subscriber = db.get_or_404(Subscriber, subscriber_id)
    form = ResubscribeForm()
    if form.validate_on_submit():
        note = form.note()
        if note != "":
            with saving(form) as attempt:
                casework.staff_resubscribe(subscriber, _staff(), consent_note=note)
            if attempt.ok:
                flash(
                    _("%(address)s is subscribed again.", address=subscriber.email)
                    if note
                    else _(
                        "A confirmation is on its way to %(address)s.", address=subscriber.email
                    ),
                    "success",
                )
                return _back(subscriber_id)
    return _page(subscriber, 400, resubscribe_form=form)


@bp.post("/subscribers/<int:subscriber_id>/erase")
@admin_only
def subscriber_erase(subscriber_id: int) -> WerkzeugResponse:
    subscriber = db.get_or_404(Subscriber, subscriber_id)
    if request.form.get("confirm") != "erase":
        raise InvalidInput(_("Tick the box to confirm the erasure: it cannot be undone."))
    with saving(page=True):
        casework.staff_erase(subscriber)
    flash(_("Erased: only a keyed hash of the address stays, so nobody can re-add it."), "success")
    return redirect(url_for("staff.subscribers"))


@bp.get("/subscribers/<int:subscriber_id>/data.json")
@admin_only
def subscriber_data(subscriber_id: int) -> WerkzeugResponse:
    """An access request's answer: everything we hold about the person, as JSON
    (the export is recorded, by the subscriber's id only)."""
    subscriber = db.get_or_404(Subscriber, subscriber_id)
    data = casework.person_data(subscriber)
    with saving(page=True):
        casework.record_export(current_user.id, _staff(), "person", {"subscriber": subscriber_id})
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="subscriber-{subscriber_id}.json"'},
    )
