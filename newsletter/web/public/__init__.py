"""Blueprint ``public``: what readers use, with no login."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from newsletter.web.public import archive, manage, reports, subscribe  # noqa: E402,F401 - registers the views
