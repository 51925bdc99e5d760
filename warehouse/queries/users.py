"""Admin users: who may sign in, with which role, to which sites.

Rows are versions (ReplacingMergeTree); the current user is the argMax of each
column. The session generation lives in ``user_sessions``; it only grows and is
read with max().
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
       min(created_at) AS created_at
FROM users
GROUP BY user_id
"""


_GENERATIONS = """
SELECT user_id, max(session_generation) AS session_generation
FROM user_sessions WHERE has({user_ids:Array(String)}, user_id) GROUP BY user_id
"""


def _write(warehouse: Warehouse, user: dict) -> None:
    row = {k: v for k, v in user.items() if k != "session_generation"}
    row.update(
        site_ids=list(user["site_ids"]), version=time.time_ns(), created_at=row["created_at"].replace(tzinfo=None)
    )
    warehouse.insert("users", pd.DataFrame([row]))


def _with_generations(warehouse: Warehouse, users: list[dict]) -> list[dict]:
    """Each user with their current session generation (0 until a session was first ended)."""
    if not users:
        return users
    found = warehouse.query(_GENERATIONS, {"user_ids": [u["user_id"] for u in users]})
    generations = {row["user_id"]: int(row["session_generation"]) for row in found}
    return [{**u, "session_generation": generations.get(u["user_id"], 0)} for u in users]


def _end_sessions(warehouse: Warehouse, user_id: str, generation: int) -> None:
    frame = pd.DataFrame([{"user_id": user_id, "session_generation": generation, "version": time.time_ns()}])
    warehouse.insert("user_sessions", frame.astype({"session_generation": "uint32", "version": "uint64"}))


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
    rows = warehouse.query(
        f"SELECT * FROM ({_CURRENT}) ORDER BY email, user_id LIMIT {{limit:UInt32}} OFFSET {{offset:UInt32}}",
        {"limit": limit, "offset": offset},
    )
    return _with_generations(warehouse, rows)


def count_users(warehouse: Warehouse, active_only: bool = False) -> int:
    where = "WHERE active = 1" if active_only else ""
    return int(warehouse.scalar(f"SELECT count() FROM ({_CURRENT}) {where}") or 0)


def get_user(warehouse: Warehouse, user_id: str) -> dict | None:
    rows = warehouse.query(f"SELECT * FROM ({_CURRENT}) WHERE user_id = {{user_id:String}}", {"user_id": user_id})
    return _with_generations(warehouse, rows)[0] if rows else None


def find_by_email(warehouse: Warehouse, email: str) -> dict | None:
    rows = warehouse.query(
        f"SELECT * FROM ({_CURRENT}) WHERE email = {{email:String}} ORDER BY active DESC, created_at LIMIT 1",
        {"email": email.strip().lower()},
    )
    return _with_generations(warehouse, rows)[0] if rows else None


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
    _write(warehouse, user)
    if end_sessions:
        user["session_generation"] = int(user["session_generation"]) + 1
        _end_sessions(warehouse, user_id, user["session_generation"])
    return user
