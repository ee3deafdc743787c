"""The email templates as clients render them: a hidden preheader that is not text
coloured like its background, a 600 px column that Outlook keeps, fallback links that
wrap on a phone."""

from __future__ import annotations

import re

import pytest

from newsletter import mailing
from tests.subscriptions.helpers import html_of, subscribe


def _confirmation_html(client, outbox, make_list) -> str:
    make_list("digest", "Dialogue digest", default=True)
    subscribe(client, "ada@example.org")
    return html_of(outbox.wait_for(1)[0])


def test_preheader_is_hidden_without_a_low_contrast_colour(app):
    with app.app_context():
        html = mailing.render.render_email("welcome", "Welcome", {"archive_url": "x"}).html
    (preheader,) = re.findall(r'<div class="preheader" style="([^"]*)"', html)
    for rule in ("display:none", "max-height:0", "overflow:hidden", "mso-hide:all"):
        assert rule in preheader.replace(" ", "")
    assert "color" not in preheader
    assert "opacity" not in preheader


def test_outlook_keeps_a_600_pixel_column(app):
    """premailer turns ``width="600"`` into ``100%``; an Outlook-only table keeps it."""
    with app.app_context():
        html = mailing.render.render_email("welcome", "Welcome", {"archive_url": "x"}).html
    assert re.search(r'<!--\[if mso\]><table role="presentation" width="600"', html)
    assert "<!--[if mso]></td></tr></table><![endif]-->" in html


@pytest.mark.browser
def test_a_fallback_link_wraps_on_a_375_pixel_phone(client, outbox, make_list, page):
    html = _confirmation_html(client, outbox, make_list)
    page.set_viewport_size({"width": 375, "height": 800})
    page.set_content(html)
    link = page.locator("a.fallback-link")
    assert link.count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    box = link.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 375
