"""Sites (tenants) and their keys.

A site has a write key (collector only: it can send events and nothing else)
and a public key (read-only recommendation calls from the storefront), both
public in the store's pages; and two secrets kept on the store's server: the
server key (server-side libraries send with it, and their events are trusted)
and the identity secret (the server signs user ids with it, see
``core.identity``). ``trust_unsigned`` takes browsers' identifies on trust.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

import pandas as pd

from warehouse.engine.connection import Warehouse

_SITES = """
SELECT site_id,
       argMax(name, version) AS name,
       argMax(domains, version) AS domains,
       argMax(write_key, version) AS write_key,
       argMax(public_key, version) AS public_key,
       min(created_at) AS created_at,
       argMax(deleted, version) AS deleted
FROM sites
GROUP BY site_id
"""
_IDENTITY = """
SELECT site_id,
       argMax(server_key, version) AS server_key,
       argMax(identity_secret, version) AS identity_secret,
       argMax(trust_unsigned, version) AS trust_unsigned
FROM site_identity
GROUP BY site_id
"""
# A site with no identity row yet reads '' and 0 (ClickHouse's defaults for a join miss).
_CURRENT = f"""
SELECT site_id, name, domains, write_key, public_key, server_key, identity_secret, trust_unsigned, created_at, deleted
FROM ({_SITES}) AS site ANY LEFT JOIN ({_IDENTITY}) AS secrets USING site_id
"""
SITE_COLUMNS = ("site_id", "name", "domains", "write_key", "public_key", "created_at", "deleted")
IDENTITY_COLUMNS = ("site_id", "server_key", "identity_secret", "trust_unsigned")


def _write(warehouse: Warehouse, site: dict, tables: tuple[str, ...] = ("sites", "site_identity")) -> None:
    version = time.time_ns()
    for table, columns in (("sites", SITE_COLUMNS), ("site_identity", IDENTITY_COLUMNS)):
        if table in tables:
            row = {**{c: site[c] for c in columns}, "version": version}
            frame = pd.DataFrame([row]).astype({"version": "uint64"})
            if table == "site_identity":
                frame = frame.astype({"trust_unsigned": "uint8"})
            warehouse.insert(table, frame)


def create_site(warehouse: Warehouse, name: str, domains: list[str] | None = None) -> dict:
    site = {
        "site_id": "s_" + secrets.token_hex(6),
        "name": name,
        "domains": list(domains or []),
        "write_key": "wk_" + secrets.token_urlsafe(24),
        "public_key": "pk_" + secrets.token_urlsafe(18),
        "server_key": new_key("server_key"),
        "identity_secret": new_key("identity_secret"),
        "trust_unsigned": 0,
        "created_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None),
        "deleted": 0,
    }
    _write(warehouse, site)
    return site


def list_sites(warehouse: Warehouse, only=None) -> list[dict]:
    """Every live site, oldest first; ``only`` (site ids) narrows it, as ``basirat jobs run --site`` does."""
    rows = warehouse.query(f"SELECT * FROM ({_CURRENT}) WHERE deleted = 0 ORDER BY created_at, site_id")
    return rows if not only else [row for row in rows if row["site_id"] in set(only)]


def get_site(warehouse: Warehouse, site_id: str) -> dict | None:
    rows = warehouse.query(
        f"SELECT * FROM ({_CURRENT}) WHERE site_id = {{site_id:String}} AND deleted = 0", {"site_id": site_id}
    )
    return rows[0] if rows else None


def update_site(warehouse: Warehouse, site_id: str, **changes) -> dict | None:
    """Write a new version of a site; ``changes`` may name name, domains, keys or deleted."""
    site = get_site(warehouse, site_id)
    if site is None:
        return None
    allowed = {"name", "domains", "deleted", "trust_unsigned", *PREFIXES}
    changed = {k: v for k, v in changes.items() if k in allowed}
    site.update(changed)
    site["created_at"] = site["created_at"].replace(tzinfo=None)
    tables = [
        t for t, columns in (("sites", SITE_COLUMNS), ("site_identity", IDENTITY_COLUMNS)) if changed.keys() & columns
    ]
    _write(warehouse, site, tuple(tables))
    return site


PREFIXES = {"write_key": "wk_", "public_key": "pk_", "server_key": "sk_", "identity_secret": "is_"}


def new_key(which: str) -> str:
    return PREFIXES[which] + secrets.token_urlsafe(24)


def rotate_key(warehouse: Warehouse, site_id: str, which: str) -> dict | None:
    """A new value for one of the site's keys (also the first, for a site made before it existed)."""
    return update_site(warehouse, site_id, **{which: new_key(which)})


def key_index(warehouse: Warehouse) -> dict[str, dict[str, str]]:
    """Every live key, for the collector's and endpoint's in-memory lookups."""
    rows = warehouse.query(
        "SELECT site_id, write_key, public_key, server_key, identity_secret, trust_unsigned, domains "
        f"FROM ({_CURRENT}) WHERE deleted = 0"
    )
    return {
        "write": {r["write_key"]: r["site_id"] for r in rows},
        "public": {r["public_key"]: r["site_id"] for r in rows},
        "server": {r["server_key"]: r["site_id"] for r in rows if r["server_key"]},
        "domains": {r["site_id"]: list(r["domains"]) for r in rows},
        # How each site takes a browser's claim to be a user: its secret, and whether unsigned claims are trusted.
        "identity": {r["site_id"]: [r["identity_secret"], bool(r["trust_unsigned"])] for r in rows},
    }
