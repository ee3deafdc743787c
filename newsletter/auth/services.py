"""Staff accounts: create, authenticate, change role, deactivate."""

from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from newsletter.auth.models import Role, StaffUser
from newsletter.extensions import db
from newsletter.timeutil import utcnow
from newsletter.validation import InvalidInput, clean_text, normalize_address

MIN_PASSWORD = 12
MAX_PASSWORD = 256


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@functools.cache
def _dummy_hash(method: str) -> str:
    """Checked when no account matches, so that a login takes as long for an unknown
    address as for a known one."""
    return generate_password_hash("not anyone's password", method=method)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"A password has at least {MIN_PASSWORD} characters.", "password")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"A password has at most {MAX_PASSWORD} characters.", "password")


def create_staff(email: str, password: str, *, role: Role, name: str = "") -> StaffUser:
    address = normalize_address(email)
    check_password_strength(password)
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


def set_password(user: StaffUser, password: str) -> None:
    """A new password; other sessions of this account end."""
    check_password_strength(password)
    user.password_hash = _hash(password)
    user.session_version += 1


def update_staff(actor: StaffUser, user: StaffUser, *, role: Role, active: bool) -> None:
    """Change another account's role or active flag (admins only; never oneself, so that
    there is always an admin who can undo it)."""
    if not actor.is_admin:
        raise InvalidInput("Only an admin can change staff accounts.")
    if actor.id == user.id and (role != actor.role or not active):
        raise InvalidInput("You cannot change your own role or deactivate yourself.")
    if user.is_active and not active:
        user.session_version += 1
    user.role = role
    user.is_active = active


def all_staff() -> list[StaffUser]:
    return list(db.session.scalars(sa.select(StaffUser).order_by(StaffUser.email_key)))


def staff_by_email(email: str) -> StaffUser | None:
    key = normalize_address(email).key
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.email_key == key))
