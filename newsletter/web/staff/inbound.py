"""Inbound mail kept for staff: readers' replies and the alerts of refused mail."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsletter.bounces import kept
from newsletter.web.formtools import saving
from newsletter.web.staff import bp
from newsletter.web.staff.forms import ButtonForm


def _item(message_id: int) -> kept.Item:
    item = kept.get(message_id)
    if item is None:
        abort(404, _("There is no such message."))
    return item


@bp.get("/inbound")
def inbound() -> str:
    show_all = request.args.get("show") == "all"
    return render_template(
        "staff/inbound/index.html",
        items=kept.items(include_handled=show_all),
        show_all=show_all,
        counts=kept.unhandled_counts(),
    )


@bp.get("/inbound/<int:message_id>")
def inbound_show(message_id: int) -> str:
    item = _item(message_id)
    return render_template(
        "staff/inbound/show.html", item=item, text=kept.text_of(item), form=ButtonForm()
    )


@bp.get("/inbound/<int:message_id>/delete")
def inbound_delete_confirm(message_id: int) -> str:
    item = _item(message_id)
    if item.kind != kept.REPLY:
        abort(404, _("Only a kept reply can be deleted; mark an alert handled."))
    return render_template(
        "staff/confirm.html",
        question=_("Delete the reply “%(subject)s”?", subject=item.subject),
        detail=_("Its text and sender are removed for good; nobody can read it again."),
        button=_("Delete the reply"),
        action=url_for("staff.inbound_action", message_id=message_id, action="delete"),
        back=url_for("staff.inbound_show", message_id=message_id),
    )


@bp.post("/inbound/<int:message_id>/<any(handled, delete):action>")
def inbound_action(message_id: int, action: str) -> Response:
    item = _item(message_id)
    if action == "delete" and item.kind != kept.REPLY:
        abort(404, _("Only a kept reply can be deleted; mark an alert handled."))
    if not ButtonForm().validate_on_submit():
        abort(400, _("This form has expired. Please send it again."))
    with saving() as attempt:
        if action == "handled":
            kept.mark_handled(item.message)
        else:
            kept.delete(item.message)
    if attempt.ok:
        flash(_("Marked handled.") if action == "handled" else _("Deleted."), "success")
    if action == "handled":
        return redirect(url_for("staff.inbound_show", message_id=message_id))
    return redirect(url_for("staff.inbound"))
