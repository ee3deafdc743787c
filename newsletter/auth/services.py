"""Staff accounts: create, authenticate, change role, deactivate."""

from __future__ import annotations

import functools
import gzip
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from newsletter.auth.models import Role, StaffUser
from newsletter.extensions import db
from newsletter.timeutil import utcnow
from newsletter.validation import InvalidInput, clean_text, normalize_address

MIN_PASSWORD = 12
MAX_PASSWORD = 256
# The 10,000 most common passwords, lower-cased (see common-passwords.LICENSE).
_COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@functools.cache
def _dummy_hash(method: str) -> str:
    """Checked when no account matches, so that a login takes as long for an unknown
    address as for a known one."""
    return generate_password_hash("not anyone's password", method=method)


@functools.cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def check_password_strength(password: str, email: str) -> None:
    """Long enough, not one of the 10,000 most common passwords, not the account's own
    address (or its part before the @)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"A password has at least {MIN_PASSWORD} characters.", "password")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"A password has at most {MAX_PASSWORD} characters.", "password")
    folded = password.strip().casefold()
    if folded in _common_passwords():
        raise InvalidInput(
            "This password is too common: it is on lists that guessers try first. "
            "Choose another (a few unrelated words make a good one).",
            "password",
        )
    address = email.strip().casefold()
    if folded in (address, address.partition("@")[0]):
        raise InvalidInput(_l("A password must not be your email address."), "password")


def create_staff(email: str, password: str, *, role: Role, name: str = "") -> StaffUser:
    address = normalize_address(email)
    check_password_strength(password, address.email)
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email_key == address.key)):
        raise InvalidInput(f"There is a staff account for {address.email} already.", "email")
    user = StaffUser(
        email=address.email,
        email_key=address.key,
        name=clean_text(name, "name"),
        password_hash=_hash(password),
        role=role,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str, now: datetime | None = None) -> StaffUser | None:
    """The active account with this address and password, or None (whichever was wrong)."""
    try:
        key = normalize_address(email).key
    except InvalidInput:
        key = None
    user = None
    if key is not None:
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email_key == key))
    if user is None or not user.is_active:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if not check_password_hash(user.password_hash, password[:MAX_PASSWORD]):
        return None
    user.last_login_at = now or utcnow()
    return user


def load_session_user(identity: str) -> StaffUser | None:
    """The user of a login session, if that session is still valid."""
    user_id, _, version = identity.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def check_current_password(user: StaffUser, password: str) -> bool:
    """Whether ``password`` is this (logged-in) user's password."""
    return check_password_hash(user.password_hash, password[:MAX_PASSWORD])


def set_language(user: StaffUser, language: str) -> None:
    """The staff member's interface language (a tag of LANGUAGES; "" follows the
    browser). Flushes."""
    from newsletter import i18n

    user.language = i18n.check_language(language)
    db.session.flush()


def set_password(user: StaffUser, password: str) -> None:
    """A new password; other sessions of this account end."""
    check_password_strength(password, user.email)
    user.password_hash = _hash(password)
    user.session_version += 1


def end_sessions(user: StaffUser) -> None:
    """Logging out: every login session of this account ends, including copies of its
    cookie (the session's identity carries the version)."""
    user.session_version += 1


def update_staff(actor: StaffUser, user: StaffUser, *, role: Role, active: bool) -> None:
    """Change another account's role or active flag (admins only; never oneself, so that
    there is always an admin who can undo it)."""
    if not actor.is_admin:
        raise InvalidInput(_l("Only an admin can change staff accounts."))
    if actor.id == user.id and (role != actor.role or not active):
        raise InvalidInput(_l("You cannot change your own role or deactivate yourself."))
    if user.is_active and not active:
        user.session_version += 1
    user.role = role
    user.is_active = active


def all_staff() -> list[StaffUser]:
    return list(db.session.scalars(sa.select(StaffUser).order_by(StaffUser.email_key)))


def staff_by_email(email: str) -> StaffUser | None:
    key = normalize_address(email).key
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.email_key == key))
