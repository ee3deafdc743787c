"""Readable, unique address parts (``political-agreement-in-kabul-2020-06-08``)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import sqlalchemy as sa

from newsletter.extensions import db


def slugify(text: str, max_length: int = 80) -> str:
    """Lower-case ASCII words joined by hyphens, cut at a word boundary (a single word
    longer than ``max_length`` is cut where it must)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return _cut(slug, max_length) or "untitled"


def _cut(slug: str, max_length: int) -> str:
    if len(slug) <= max_length:
        return slug
    cut = slug[: max_length + 1]
    boundary = cut.rfind("-")
    return (cut[:boundary] if boundary > 0 else slug[:max_length]).rstrip("-")


def unique_slug(model: Any, base: str, own_id: int | None = None) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever no other row of ``model`` uses."""
    candidate, n = base, 1
    while True:
        query = sa.select(model.id).where(model.slug == candidate)
        if own_id is not None:
            query = query.where(model.id != own_id)
        if db.session.scalar(query) is None:
            return candidate
        n += 1
        candidate = f"{_cut(base, 76)}-{n}"
