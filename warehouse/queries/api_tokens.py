"""API tokens: which user a bearer token speaks for.

Tokens arrive here already hashed (``webapp.tokens`` makes and hashes them);
this module stores and looks up hashes, never the token itself. Rows are
versions (ReplacingMergeTree): revoking writes a new version.
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd

from warehouse.engine.connection import Warehouse

_CURRENT = """
SELECT token_id,
       argMax(user_id, version) AS user_id,
       argMax(token_hash, version) AS token_hash,
       argMax(label, version) AS label,
       min(created_at) AS created_at,
       argMax(revoked, version) AS revoked
FROM api_tokens
GROUP BY token_id
"""


def _write(warehouse: Warehouse, token: dict) -> None:
    row = {**token, "version": time.time_ns()}
    row["created_at"] = row["created_at"].replace(tzinfo=None)
    warehouse.insert("api_tokens", pd.DataFrame([row]))


def create_token(warehouse: Warehouse, token_id: str, user_id: str, token_hash: str, label: str) -> dict:
    token = {
        "token_id": token_id,
        "user_id": user_id,
        "token_hash": token_hash,
        "label": label,
        "created_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None),
        "revoked": 0,
    }
    _write(warehouse, token)
    return token


def find_by_hash(warehouse: Warehouse, token_hash: str) -> dict | None:
    """The live (not revoked) token with this hash, or None."""
    rows = warehouse.query(
        f"SELECT * FROM ({_CURRENT}) WHERE token_hash = {{token_hash:String}} AND revoked = 0 LIMIT 1",
        {"token_hash": token_hash},
    )
    return rows[0] if rows else None


def list_tokens(warehouse: Warehouse, user_id: str) -> list[dict]:
    """The user's live tokens, newest first."""
    return warehouse.query(
        f"SELECT * FROM ({_CURRENT}) WHERE user_id = {{user_id:String}} AND revoked = 0 "
        "ORDER BY created_at DESC, token_id",
        {"user_id": user_id},
    )


def revoke_token(warehouse: Warehouse, user_id: str, token_id: str) -> bool:
    """Revoke one of the user's tokens; False when the user has no such live token."""
    rows = warehouse.query(
        f"SELECT * FROM ({_CURRENT}) WHERE token_id = {{token_id:String}} AND user_id = {{user_id:String}} "
        "AND revoked = 0",
        {"token_id": token_id, "user_id": user_id},
    )
    if not rows:
        return False
    _write(warehouse, {**rows[0], "revoked": 1})
    return True


def revoke_user_tokens(warehouse: Warehouse, user_id: str) -> int:
    """Revoke every live token of the user (password changed, account deactivated); how many."""
    rows = list_tokens(warehouse, user_id)
    if rows:
        version = time.time_ns()
        revoked = [
            {**row, "revoked": 1, "version": version, "created_at": row["created_at"].replace(tzinfo=None)}
            for row in rows
        ]
        warehouse.insert("api_tokens", pd.DataFrame(revoked))
    return len(rows)
