"""Sending a digest from the staff pages: confirm, schedule, follow live, pause, resume,
cancel, and the per-recipient log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.wrappers import Response

from newsletter import i18n
from newsletter.delivery import execution, figures, sends
from newsletter.delivery.models import DeliveryStatus
from newsletter.digests import archive, variants
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.settings import services as site_settings
from newsletter.timeutil import parse_moment, zone_names
from newsletter.web.formtools import saving
from newsletter.web.staff import bp
from newsletter.web.staff.forms import ButtonForm


def _archive_choice() -> bool | None:
    """The send page's "publish in the archive" box: a hidden 0 and the box's 1, so a
    post without the field at all (a script) leaves the default."""
    values = request.form.getlist("in_archive")
    return "1" in values if values else None


def _to_progress(digest_id: int) -> Response:
    return redirect(url_for("staff.digests_progress", digest_id=digest_id))


@bp.get("/digests/<int:digest_id>/send")
def digests_send_confirm(digest_id: int) -> str:
    digest = db.get_or_404(Digest, digest_id)
    return render_template(
        "staff/digests/send.html",
        digest=digest,
        audience=sends.audience_size(digest),
        form=ButtonForm(),
        now=datetime.now(UTC),
        in_archive=digest.in_archive
        if digest.status.value == "scheduled"
        else archive.publishes_by_default(digest),
        zones=zone_names(),
        private_lists=[lst.name for lst in digest.lists if not lst.is_public],
        plan=variants.send_plan(digest, variants.readers_by_language(sends.audience_ids(digest))),
    )


@bp.post("/digests/<int:digest_id>/send")
def digests_send(digest_id: int) -> Response:
    digest = db.get_or_404(Digest, digest_id)
    with saving() as attempt:
        size = sends.start_send(digest, in_archive=_archive_choice())
    if not attempt.ok:
        return redirect(url_for("staff.digests_send_confirm", digest_id=digest_id))
    execution.dispatch(current_app._get_current_object(), digest_id)  # type: ignore[attr-defined]
    flash(
        ngettext(
            "Sending to %(count)s subscriber.",
            "Sending to %(count)s subscribers.",
            size,
            count=i18n.digits(str(size)),
        ),
        "success",
    )
    return _to_progress(digest_id)


@bp.post("/digests/<int:digest_id>/schedule")
def digests_schedule(digest_id: int) -> Response:
    digest = db.get_or_404(Digest, digest_id)
    # Entered in the zone the page offers (the site's, unless staff chose another) or
    # with its own offset; stored in UTC.
    zone = request.form.get("zone") or site_settings.current().zone.key
    with saving() as attempt:
        when = parse_moment(request.form.get("when", ""), zone)
        sends.schedule(digest, when.utc, in_archive=_archive_choice())
    if not attempt.ok:
        return redirect(url_for("staff.digests_send_confirm", digest_id=digest_id))
    flash(_("Scheduled for %(moment)s.", moment=when.described), "success")
    return redirect(url_for("staff.digests_edit", digest_id=digest_id))


_ACTIONS: dict[str, tuple[Callable[[Digest], object], str]] = {
    "pause": (sends.pause, _l("Paused: workers stop after their current message.")),
    "resume": (sends.resume, _l("Resumed.")),
    "cancel": (sends.cancel, _l("Cancelled: nobody else will get it.")),
    "unschedule": (sends.unschedule, _l("No longer scheduled: back to draft.")),
}


@bp.get("/digests/<int:digest_id>/cancel")
def digests_cancel_confirm(digest_id: int) -> str:
    digest = db.get_or_404(Digest, digest_id)
    return render_template(
        "staff/confirm.html",
        question=_("Cancel sending “%(subject)s”?", subject=digest.subject),
        detail=_("Nobody who has not had it yet will get it. A cancelled send cannot be resumed."),
        button=_("Cancel the send"),
        action=url_for("staff.digests_control", digest_id=digest.id, action="cancel"),
        back=url_for("staff.digests_progress", digest_id=digest.id),
    )


@bp.post("/digests/<int:digest_id>/<any(pause, resume, cancel, unschedule):action>")
def digests_control(digest_id: int, action: str) -> Response:
    digest = db.get_or_404(Digest, digest_id)
    change, message = _ACTIONS[action]
    with saving() as attempt:
        change(digest)
    if attempt.ok:
        if action == "resume":
            execution.dispatch(current_app._get_current_object(), digest_id)  # type: ignore[attr-defined]
        flash(message, "success")
    if action == "unschedule":
        return redirect(url_for("staff.digests_edit", digest_id=digest_id))
    return _to_progress(digest_id)


@bp.get("/digests/<int:digest_id>/progress")
def digests_progress(digest_id: int) -> str:
    digest = db.get_or_404(Digest, digest_id)
    return render_template(
        "staff/digests/progress.html",
        digest=digest,
        progress=figures.progress(digest_id),
        form=ButtonForm(),
    )


@bp.get("/digests/<int:digest_id>/progress.json")
def digests_progress_json(digest_id: int) -> Response:
    digest = db.get_or_404(Digest, digest_id)
    return jsonify(
        status=digest.status.value,
        pause_reason=digest.pause_reason,
        **figures.progress(digest_id).as_dict(),
    )


@bp.get("/digests/<int:digest_id>/deliveries")
def digests_deliveries(digest_id: int) -> str:
    digest = db.get_or_404(Digest, digest_id)
    raw_status = request.args.get("status") or None
    if raw_status is not None and raw_status not in DeliveryStatus._value2member_map_:
        abort(400, _("Unknown delivery status."))
    status = DeliveryStatus(raw_status) if raw_status else None
    page = request.args.get("page", 1, type=int) or 1
    entries, pages = figures.delivery_log(digest_id, status, page)
    return render_template(
        "staff/digests/deliveries.html",
        digest=digest,
        entries=entries,
        page=min(max(page, 1), pages),
        pages=pages,
        status=raw_status,
        statuses=[s.value for s in DeliveryStatus],
    )
