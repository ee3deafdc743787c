"""Serving an email's HTML for a frame on our own pages."""

from flask import Response

# No scripts, no forms, no cookies; links open in a new tab.
SANDBOX_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
    "img-src https: http: data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
)


def sandboxed_html(html: str) -> Response:
    response = Response(
        html.replace("<head>", '<head><base target="_blank">', 1), mimetype="text/html"
    )
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    return response
