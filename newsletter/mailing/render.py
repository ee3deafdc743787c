"""Email templates: Jinja renders a pair (HTML and text), premailer inlines the CSS.

Each email is ``templates/email/<name>.html`` and ``templates/email/<name>.txt``.
Values that differ per recipient are passed as slots (see ``mime.slot``) so that a
pair renders and inlines once and every copy only fills the slots.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, render_template
from premailer import Premailer

from newsletter import i18n, links
from newsletter.mailing.mime import slot
from newsletter.settings import services as site_settings


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def hanging(text: str, prefix: str = "  * ", width: int = 76) -> str:
    """Jinja filter for text emails: ``text`` wrapped at ``width``, its first line after
    ``prefix`` and the next ones indented under it (a list item that reads well)."""
    return textwrap.fill(
        " ".join(str(text).split()),
        width=width,
        initial_indent=prefix,
        subsequent_indent=" " * len(prefix),
        break_long_words=False,
        break_on_hyphens=False,
    )


def init_app(app: Flask) -> None:
    app.jinja_env.filters["hanging"] = hanging


def inline_css(html: str) -> str:
    """Move the stylesheet into ``style`` attributes, keeping the ``<style>`` block for
    the media queries (dark mode, narrow screens) that cannot be inlined.

    Never fetches anything over the network, and keeps ``!important`` (dark-mode
    overrides need it).
    """
    return Premailer(
        html,
        allow_network=False,
        strip_important=False,
        keep_style_tags=True,
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
    ).transform(pretty_print=False)


def render_email(
    name: str, subject: str, context: Mapping[str, Any], slot_names: tuple[str, ...] = ()
) -> RenderedEmail:
    """Render ``email/<name>.{html,txt}``; each of ``slot_names`` renders as its marker."""
    values = dict(context)
    values.update({slot_name: slot(slot_name) for slot_name in slot_names})
    values.setdefault("subject", subject)
    # The language being rendered (``i18n.force_language``): the document's lang and
    # dir, and the sides the mirrored layout aligns to.
    language = i18n.current_language()
    direction = i18n.direction(language)
    values.update(
        lang=language,
        dir=direction,
        start="right" if direction == "rtl" else "left",
        end="left" if direction == "rtl" else "right",
    )
    site = site_settings.current()
    values.setdefault("site_name", site.site_name)
    values.setdefault("organisation_name", site.organisation_name)
    values.setdefault("postal_address", site.postal_address)
    values.setdefault("brand", site.palette)
    if site.logo_version:
        values.setdefault(
            "logo",
            {
                "url": links.external_url("public.logo", version=site.logo_version),
                "alt": site.logo_alt,
                "width": round((site.logo_width or 1) * 40 / (site.logo_height or 1)),
                "height": 40,
            },
        )
    html = render_template(f"email/{name}.html", **values)
    text = render_template(f"email/{name}.txt", **values)
    return RenderedEmail(subject=subject, html=inline_css(html), text=text)
