"""Checks on values that steer where a response goes."""

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects:
    absolute URLs, ``//host`` and backslash tricks are refused)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
