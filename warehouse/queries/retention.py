"""Data retention: raw events are kept a set number of days.

Where the server has TTL (ClickHouse 19.6+, chDB) the table itself expires
rows in its background merges, so nothing needs to run on time; the TTL is
set once and changed only when the setting changes. Where it has not (Debian's
18.16), a daily job deletes what is past the limit with a mutation. On a
cluster both act on the ``_local`` tables that hold the rows, on every node.
"""

from __future__ import annotations

import re
import time

from warehouse.engine.cluster import LOCAL_SUFFIX
from warehouse.engine.connection import Warehouse

# Table -> the time column its retention counts from: raw events and every
# table derived from them that holds visitor or user ids (visits, dashboard
# rollups, the serving log and its experiment arms, webhook deliveries,
# rejected messages, identity evidence, folded visits, votes and facts). The logs are
# partitioned by month, so expiry drops whole parts. The current identity map, segments and scores are rebuilt by the
# jobs from what events remain; model versions are pruned by count instead; segment stays that ended past the limit
# are deleted by the retention job (``segments.expire_stays``).
RETAINED = {
    "events": "timestamp",
    "event_ids": "received_at",
    "sessions": "ended_at",
    "visit_slots": "slot",
    "attribution_events": "timestamp",
    "rec_served": "served_at",
    "rec_session_items": "last_seen",
    "rec_visitor_votes": "last_seen",
    "id_pair_facts": "seen_to",
    "webhook_deliveries": "sent_at",
    "rec_served_arms": "served_at",
    "quarantine": "received_at",
    "identity_links": "at",
    "identity_history": "linked_at",
}


def _target(warehouse: Warehouse, table: str) -> tuple[str, str]:
    """(table holding the rows, ON CLUSTER clause)."""
    if warehouse.cluster:
        return f"{warehouse.database}.{table}{LOCAL_SUFFIX}", f" ON CLUSTER {warehouse.cluster}"
    return table, ""


def current_ttl_days(warehouse: Warehouse, table: str) -> int | None:
    """Days of the table's TTL as the server reports it, or None."""
    name = table + LOCAL_SUFFIX if warehouse.cluster else table
    engine = warehouse.scalar(
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        {"t": name},
    )
    match = re.search(r"\bTTL\b.*?toIntervalDay\((\d+)\)", engine or "")
    return int(match.group(1)) if match else None


def _exists(warehouse: Warehouse, table: str) -> bool:
    name = table + LOCAL_SUFFIX if warehouse.cluster else table
    return bool(
        warehouse.scalar(
            "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
            {"t": name},
        )
    )


def set_ttl(warehouse: Warehouse, days: int) -> list[str]:
    """Make each retained table expire rows after ``days``; returns the tables changed.

    A TTL is part of the table's definition, which takes no bound parameters;
    ``days`` is an integer from the settings, never request input.
    """
    days, changed = int(days), []
    for table, column in RETAINED.items():
        if current_ttl_days(warehouse, table) == days or not _exists(warehouse, table):
            continue  # a table a pending migration creates gets its TTL on the next run
        target, on_cluster = _target(warehouse, table)
        warehouse.execute(f"ALTER TABLE {target}{on_cluster} MODIFY TTL {column} + toIntervalDay({days})")
        changed.append(table)
    return changed


def remove_ttl(warehouse: Warehouse) -> list[str]:
    changed = []
    for table in RETAINED:
        if current_ttl_days(warehouse, table) is not None:
            target, on_cluster = _target(warehouse, table)
            warehouse.execute(f"ALTER TABLE {target}{on_cluster} REMOVE TTL")
            changed.append(table)
    return changed


def delete_expired(warehouse: Warehouse, days: int) -> None:
    """Delete rows past the limit (servers without TTL). The mutation runs in
    the background; rows disappear from reads once it has rewritten a part."""
    for table, column in RETAINED.items():
        warehouse.execute(
            f"ALTER TABLE {table} DELETE WHERE {column} < now() - toIntervalDay({{days:UInt32}})", {"days": int(days)}
        )


def apply_retention(warehouse: Warehouse, days: int) -> str:
    """Enforce ``days`` of retention; returns what was done: kept, ttl or deleted."""
    if days <= 0:
        if warehouse.features["ttl"]:
            remove_ttl(warehouse)
        return "kept"
    if warehouse.features["ttl"]:
        set_ttl(warehouse, days)
        return "ttl"
    delete_expired(warehouse, days)
    return "deleted"


def wait_for_deletes(warehouse: Warehouse, timeout: float = 900.0) -> int:
    """Wait until this server's mutations (the deletes retention started) are done; returns those waited for.

    A mutation runs after its ALTER returns: without waiting, a ``jobs run``
    process would exit with its deletes still to do, and the next process to
    open an embedded folder would do them, beside its own work. Over a
    cluster, the mutations of the shards this server holds are waited for.
    """
    pending = "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0"
    waited = remaining = int(warehouse.scalar(pending) or 0)
    deadline = time.monotonic() + timeout
    while remaining:
        if time.monotonic() > deadline:
            raise TimeoutError(f"retention's deletes are still running after {timeout:.0f}s")
        time.sleep(0.1)
        remaining = int(warehouse.scalar(pending) or 0)
    return waited
