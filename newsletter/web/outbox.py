"""Blueprint ``outbox``: the local outbox, registered only when no mail server is set.

It shows every message the application "sent", so a newcomer can click the
confirmation link. It holds every reader's personal links, so only logged-in staff may
read it (``make run`` prints the demo admin's login): never "anyone on this machine",
since behind a reverse proxy every client seems to be on this machine.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from newsletter.mailing import outbox
from newsletter.web.access import require_staff_login
from newsletter.web.formtools import saving
from newsletter.web.framing import sandboxed_html

bp = Blueprint("outbox", __name__, url_prefix="/outbox")
bp.before_request(require_staff_login)


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
