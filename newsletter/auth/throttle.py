"""Failed staff logins: counted per account, from anywhere, in the rate limiter's storage
(memory, or the Redis every worker shares).

Past ``LOGIN_SLOWDOWN_AFTER`` failures in ``LOGIN_FAILURE_WINDOW_MINUTES`` every attempt
for the account waits (longer and longer, at most ``LOGIN_SLOWDOWN_MAX_SECONDS``)
before its password is checked: a guesser is slowed, and the owner, with the right
password, still gets in. Nobody else's failures can refuse it. Past
``LOGIN_ALERT_AFTER`` failures the owner is told by email, once a window.

Counters are keyed on the normalised address, hashed (``newsletter.limitkeys``), so
unknown addresses behave like known ones and the storage holds no address.
"""

from __future__ import annotations

from flask import current_app

from newsletter import mailing
from newsletter.auth.models import StaffUser
from newsletter.extensions import db, limiter
from newsletter.limitkeys import address_key, hashed
from newsletter.settings import services as site_settings

_FIRST_DELAY = 0.25  # seconds at the threshold; doubled with each failure past it


def _window() -> int:
    return int(current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"]) * 60


def failures(email: str) -> int:
    return int(limiter.storage.get(hashed("login-failures", address_key(email))) or 0)


def delay(email: str) -> float:
    """Seconds an attempt for this account waits before its password is checked."""
    config = current_app.config
    past = failures(email) - int(config["LOGIN_SLOWDOWN_AFTER"])
    if past < 0:
        return 0.0
    return min(float(config["LOGIN_SLOWDOWN_MAX_SECONDS"]), _FIRST_DELAY * 2 ** min(past, 16))


def record_failure(email: str) -> None:
    """Count a wrong password for this account; past ``LOGIN_ALERT_AFTER`` failures its
    owner (if there is an active account) gets one email per window, queued in the
    caller's transaction."""
    key = address_key(email)
    count = limiter.storage.incr(hashed("login-failures", key), _window())
    if count < int(current_app.config["LOGIN_ALERT_AFTER"]):
        return
    user = db.session.scalar(db.select(StaffUser).where(StaffUser.email_key == key))
    if user is None or not user.is_active:
        return
    if limiter.storage.incr(hashed("login-alert", key), _window()) != 1:
        return  # told already in this window
    minutes = int(current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])
    site = site_settings.current().site_name
    mailing.send_email(
        "login_failures",
        subject=f"Failed attempts to log in to your {site} staff account",
        to_address=user.email,
        to_name=user.name,
        context={"minutes": minutes, "count": count},
    )
