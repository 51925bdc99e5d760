"""Admin users: who may sign in, with which role, to which sites.

Rows are versions (ReplacingMergeTree); the current user is the argMax of each
column, except the session generation, which only grows and is read with max().
Passwords arrive here already hashed: this module stores, never hashes.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

import pandas as pd

from warehouse.engine.connection import Warehouse

ROLES = ("admin", "analyst")

_CURRENT = """
SELECT user_id,
       argMax(email, version) AS email,
       argMax(password_hash, version) AS password_hash,
       argMax(role, version) AS role,
       argMax(site_ids, version) AS site_ids,
       argMax(active, version) AS active,
       max(session_generation) AS session_generation,
       min(created_at) AS created_at
FROM users
GROUP BY user_id
"""


def _write(warehouse: Warehouse, user: dict) -> None:
    row = {**user, "site_ids": list(user["site_ids"]), "version": time.time_ns()}
    row["created_at"] = row["created_at"].replace(tzinfo=None)
    warehouse.insert("users", pd.DataFrame([row]))


def create_user(
    warehouse: Warehouse, email: str, password_hash: str, role: str, site_ids: list[str] | None = None
) -> dict:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    user = {
        "user_id": "u_" + secrets.token_hex(6),
        "email": email.strip().lower(),
        "password_hash": password_hash,
        "role": role,
        "site_ids": list(site_ids or []),
        "active": 1,
        "session_generation": 0,
        "created_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None),
    }
    _write(warehouse, user)
    return user


def list_users(warehouse: Warehouse, limit: int = 1000, offset: int = 0) -> list[dict]:
    return warehouse.query(
        f"SELECT * FROM ({_CURRENT}) ORDER BY email, user_id LIMIT {{limit:UInt32}} OFFSET {{offset:UInt32}}",
        {"limit": limit, "offset": offset},
    )


def count_users(warehouse: Warehouse, active_only: bool = False) -> int:
    where = "WHERE active = 1" if active_only else ""
    return int(warehouse.scalar(f"SELECT count() FROM ({_CURRENT}) {where}") or 0)


def get_user(warehouse: Warehouse, user_id: str) -> dict | None:
    rows = warehouse.query(f"SELECT * FROM ({_CURRENT}) WHERE user_id = {{user_id:String}}", {"user_id": user_id})
    return rows[0] if rows else None


def find_by_email(warehouse: Warehouse, email: str) -> dict | None:
    rows = warehouse.query(
        f"SELECT * FROM ({_CURRENT}) WHERE email = {{email:String}} ORDER BY active DESC, created_at LIMIT 1",
        {"email": email.strip().lower()},
    )
    return rows[0] if rows else None


def update_user(warehouse: Warehouse, user_id: str, end_sessions: bool = False, **changes) -> dict | None:
    """Write a new version; ``changes`` may name password_hash, role, site_ids or active.

    ``end_sessions`` raises the session generation: every session signed in
    before stops working."""
    user = get_user(warehouse, user_id)
    if user is None:
        return None
    if "role" in changes and changes["role"] not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    allowed = {"password_hash", "role", "site_ids", "active"}
    user.update({k: v for k, v in changes.items() if k in allowed})
    if end_sessions:
        user["session_generation"] = int(user["session_generation"]) + 1
    _write(warehouse, user)
    return user
