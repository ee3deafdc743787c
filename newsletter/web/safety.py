"""Checks on values that steer where a response goes."""

from urllib.parse import urlsplit

_SPACE = 0x20
_DELETE = 0x7F


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects:
    absolute URLs, ``//host`` and backslash tricks are refused), and free of spaces and
    control characters (a line break would end the ``Location`` header)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) <= _SPACE or ord(ch) == _DELETE for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
