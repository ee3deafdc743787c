"""Absolute links for email and feeds, built from NEWSLETTER_BASE_URL.

They do not depend on a request, so mail built by the CLI or a worker links to the
public site, not to whatever host a request came through.
"""

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter


def _adapter() -> MapAdapter:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    adapter = app.extensions.get("newsletter.link_adapter")
    if adapter is None:
        base = urlsplit(app.config["BASE_URL"])
        adapter = app.url_map.bind(
            base.netloc, script_name=base.path or "/", url_scheme=base.scheme
        )
        app.extensions["newsletter.link_adapter"] = adapter
    return adapter


def external_url(endpoint: str, **values: Any) -> str:
    return _adapter().build(endpoint, values, force_external=True)
