"""What the settings put on every page: the brand colours, the logo, the favicon."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app

from newsletter.settings import services as site_settings
from newsletter.web.public import bp

# Addresses carry a version: a changed colour or logo gets a new address.
_FOREVER = "public, max-age=31536000, immutable"


@bp.get("/site/brand.css")
def brand_css() -> Response:
    palette = site_settings.current().palette
    declarations = "\n".join(f"  --{name}: {value};" for name, value in palette.items())
    body = f":root:not([data-theme]) {{\n{declarations}\n}}\n"
    response = Response(body, mimetype="text/css")
    response.headers["Cache-Control"] = _FOREVER
    return response


@bp.get("/site/logo/<version>")
def logo(version: str) -> Response:
    found = site_settings.logo(version)
    if found is None:
        abort(404, "There is no logo at this address.")
    data, mimetype = found
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = _FOREVER
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    """For browsers and readers that ask at the root (pages link the SVG one)."""
    icon = Path(current_app.static_folder or "static") / "favicon.ico"
    response = Response(icon.read_bytes(), mimetype="image/vnd.microsoft.icon")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
