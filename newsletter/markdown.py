"""Markdown written by staff (digest intros and outros), made safe for pages and email."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import nh3
from flask import current_app
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

# Raw HTML in the source is shown as text, never interpreted; the output is cleaned
# again with an allow-list, and links get rel="noopener noreferrer".
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "h3", "h4"}
_ATTRIBUTES = {"a": {"href", "title"}}
# Linear: the text holds no bracket, the target no space or parenthesis.
_LINK_RE = re.compile(r"\[([^\[\]\n]+)\]\(([^\s()]+)\)")
_EMPHASIS_RE = re.compile(r"(\*\*|__)(.+?)\1")


def absolute(href: str) -> str:
    """A link that works in an email, read anywhere: a relative link (``/archive``,
    ``report.pdf``) or a protocol-relative one (``//host/x``) is made absolute against
    NEWSLETTER_BASE_URL; absolute links stay as written."""
    if urlsplit(href).scheme:
        return href
    return urljoin(str(current_app.config["BASE_URL"]) + "/", href)


def _absolute_links(tokens: list[Token]) -> None:
    for token in tokens:
        if token.children:
            _absolute_links(token.children)
        if token.type == "link_open" and token.attrGet("href") is not None:
            token.attrSet("href", absolute(str(token.attrGet("href"))))


def to_html(source: str) -> Markup:
    tokens = _md.parse(source or "")
    _absolute_links(tokens)
    rendered = _md.renderer.render(tokens, _md.options, {})
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
    text = _LINK_RE.sub(lambda m: f"{m.group(1)} ({absolute(m.group(2))})", source or "")
    return _EMPHASIS_RE.sub(r"\2", text).strip()
