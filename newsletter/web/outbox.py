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
from werkzeug.wrappers import Response as WerkzeugResponse

from newsletter.mailing import outbox

bp = Blueprint("outbox", __name__, url_prefix="/outbox")

# The message HTML is shown in a sandboxed frame: no scripts, no forms, no cookies;
# links open in a new tab.
_MESSAGE_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
    "img-src https: http: data:; style-src 'unsafe-inline'"
)


@bp.before_request
def _only_this_machine() -> None:
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
    html = found.html.replace("<head>", '<head><base target="_blank">', 1)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _MESSAGE_CSP
    return response


@bp.get("/<key>/raw")
def message_raw(key: str) -> Response:
    found = outbox.read_message(_path(), key)
    if found is None:
        abort(404, "That message is not in the outbox.")
    return Response(found.raw, mimetype="text/plain")


@bp.post("/clear")
def clear() -> WerkzeugResponse:
    count = outbox.clear(_path())
    flash(f"Removed {count} message(s) from the outbox.", "success")
    return redirect(url_for("outbox.index"))
