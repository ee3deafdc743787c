"""Blueprint ``outbox``: the local outbox, registered only when no mail server is set.

It shows every message the application "sent", so a newcomer can click the
confirmation link. Only clients on this machine may read it.
"""

from __future__ import annotations

import ipaddress

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from newsletter.mailing import outbox
from newsletter.web.formtools import saving
from newsletter.web.framing import sandboxed_html

bp = Blueprint("outbox", __name__, url_prefix="/outbox")


@bp.before_request
def _only_this_machine() -> None:
    """Staff, or anyone on this machine (the newcomer of ``make run``), may read it."""
    if current_user.is_authenticated:
        return
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if not local:
        abort(404)


def _path() -> str:
    return str(current_app.config["OUTBOX_DIR"])


@bp.get("/")
def index() -> str:
    return render_template("outbox/index.html", messages=outbox.list_messages(_path()))


@bp.get("/<key>")
def message(key: str) -> str:
    found = outbox.read_message(_path(), key)
    if found is None:
        abort(404, "That message is not in the outbox.")
    return render_template("outbox/message.html", message=found)


@bp.get("/<key>/html")
def message_html(key: str) -> Response:
    found = outbox.read_message(_path(), key)
    if found is None or found.html is None:
        abort(404, "That message has no HTML part.")
    return sandboxed_html(found.html)


@bp.get("/<key>/raw")
def message_raw(key: str) -> Response:
    found = outbox.read_message(_path(), key)
    if found is None:
        abort(404, "That message is not in the outbox.")
    return Response(found.raw, mimetype="text/plain")


@bp.post("/clear")
def clear() -> WerkzeugResponse:
    with saving() as attempt:
        count = outbox.clear(_path())
    if attempt.ok:
        flash(f"Removed {count} message(s) from the outbox.", "success")
    return redirect(url_for("outbox.index"))
