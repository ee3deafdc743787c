"""Blueprint ``staff`` under /staff: every page needs a logged-in staff member.

The guard sits on the blueprint, not on each view, so a new view cannot forget it.
Admin-only views are listed in ``ADMIN_ONLY``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from newsletter.web.access import require_staff_login

bp = Blueprint("staff", __name__, url_prefix="/staff")
F = TypeVar("F", bound=Callable[..., Any])

PUBLIC_ENDPOINTS = {"staff.login"}
ADMIN_ONLY: set[str] = set()


def admin_only(view: F) -> F:
    """Register a view of this blueprint as admins-only (checked by the guard)."""
    ADMIN_ONLY.add(f"staff.{view.__name__}")
    return view


@bp.before_request
def _require_staff() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    refusal = require_staff_login()
    if refusal is not None:
        return refusal
    if request.endpoint in ADMIN_ONLY and not current_user.is_admin:
        abort(403, _("Only an admin can do that."))
    return None


from newsletter.web.staff import (  # noqa: E402,F401 - registers the views
    account,
    digests,
    home,
    imports,
    inbound,
    languages,
    lists,
    people,
    reports,
    sending,
    sessions,
    settings,
    subscribers,
)
