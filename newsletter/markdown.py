"""Markdown written by staff (digest intros and outros), made safe for pages and email."""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML in the source is shown as text, never interpreted; the output is cleaned
# again with an allow-list, and links get rel="noopener noreferrer".
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "h3", "h4"}
_ATTRIBUTES = {"a": {"href", "title"}}
_LINK_RE = re.compile(r"\[([^\]]+)\]\((\S+?)\)")
_EMPHASIS_RE = re.compile(r"(\*\*|__)(.+?)\1")


def to_html(source: str) -> Markup:
    rendered = _md.render(source or "")
    cleaned = nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return Markup(cleaned)  # noqa: S704 - cleaned by nh3 with an allow-list just above


def to_text(source: str) -> str:
    """The source for a plain-text email: links spelled out, strong emphasis unmarked."""
    text = _LINK_RE.sub(lambda m: f"{m.group(1)} ({m.group(2)})", source or "")
    return _EMPHASIS_RE.sub(r"\2", text).strip()
