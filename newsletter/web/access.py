"""Who may see a page: the one rule for everything that needs a staff login."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response


def require_staff_login() -> Response | None:
    """Nothing for a logged-in staff member; a browser is sent to the login page (and
    back here after it); anything else gets 401."""
    if current_user.is_authenticated:
        return None
    if request.method == "GET" and request.accept_mimetypes.best != "application/json":
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    abort(401, "Please log in.")
