"""Accounts: Argon2id password hashing around ``warehouse.queries.users``.

Used by the sign-in page, the users pages and ``basirat users``. Unknown
emails are verified against a fixed hash so a missing account takes as long
as a wrong password.

What must end a user's access ends it here: signing out ends every session
of the user (the session generation, checked on each request, goes up); a
new password and deactivation also revoke the user's API tokens, which stay
revoked if the account is made active again.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from warehouse.queries import api_tokens
from warehouse.queries import users as store

MIN_PASSWORD = 10
_hasher = PasswordHasher()
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    pass


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


def new_password() -> str:
    return secrets.token_urlsafe(15)


def create(warehouse, email: str, role: str, password: str, site_ids: list[str] | None = None) -> dict:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError("enter an email address like name@example.com")
    if role not in store.ROLES:
        raise AccountError(f"role must be one of {', '.join(store.ROLES)}")
    check_password_rules(password)
    existing = store.find_by_email(warehouse, email)
    if existing is not None:
        raise AccountError(f"a user {email} already exists")
    return store.create_user(warehouse, email, _hasher.hash(password), role, site_ids)


def set_password(warehouse, user_id: str, password: str) -> dict | None:
    """A new password: every session and API token of the user ends."""
    check_password_rules(password)
    user = store.update_user(warehouse, user_id, end_sessions=True, password_hash=_hasher.hash(password))
    if user is not None:
        api_tokens.revoke_user_tokens(warehouse, user_id)
    return user


def end_sessions(warehouse, user_id: str) -> None:
    """Sign the user out everywhere (their API tokens keep working)."""
    store.update_user(warehouse, user_id, end_sessions=True)


def update(warehouse, user: dict, role: str, active: int, site_ids: list[str]) -> dict | None:
    """Change role, sites or state; deactivating ends every session and revokes every token."""
    deactivated = bool(user["active"]) and not active
    changed = store.update_user(
        warehouse, user["user_id"], end_sessions=deactivated, role=role, active=active, site_ids=site_ids
    )
    if deactivated:
        api_tokens.revoke_user_tokens(warehouse, user["user_id"])
    return changed


def authenticate(warehouse, email: str, password: str) -> dict | None:
    """The active user with this email and password, or None."""
    user = store.find_by_email(warehouse, email)
    try:
        _hasher.verify(user["password_hash"] if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user["active"]:
        return None
    if _hasher.check_needs_rehash(user["password_hash"]):
        store.update_user(warehouse, user["user_id"], password_hash=_hasher.hash(password))
    return user


def reaches_every_site(user: dict) -> bool:
    """An admin with no site list: every site, including sites made later."""
    return user["role"] == "admin" and not list(user["site_ids"])


def may_see(user: dict, site_id: str) -> bool:
    """Admins with no site list see every site; everyone else only their list."""
    if reaches_every_site(user):
        return True
    return site_id in list(user["site_ids"])
