"""Replaying quarantined messages through today's pipeline.

A message lands in quarantine when it parses but breaks the schema. Once the
sender is fixed, or the rules have changed, ``basirat quarantine replay`` runs
each held message through the same validation and enrichment again: those
that pass are loaded (deduplicated on message id like any other), the rest
stay where they are. Whatever key a held message came with, it is replayed
as a browser's: its user id is trusted only with a valid userHash (or on a
site that trusts unsigned identifies).
"""

from __future__ import annotations

import datetime as dt
import json

from warehouse.queries import events, quarantine, sites

from .loader import dedupe
from .pipeline import Rejected, to_row, validate
from .trust import request_trust


def _received(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    return dt.datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S")


def replay(warehouse, config: dict, site_id: str = "", limit: int = 10000) -> dict:
    """Re-run held messages; returns counts of ``loaded``, ``duplicates`` and ``still_rejected``."""
    held = quarantine.list_quarantined(warehouse, site_id, limit=limit)
    rows, passed, failed = [], [], 0
    identities = {}
    for item in held:
        try:
            msg = validate(json.loads(item["raw"]), config["MAX_MESSAGE_BYTES"])
            if item["site_id"] not in identities:
                identities[item["site_id"]] = _identity(warehouse, item["site_id"])
            row = to_row(
                msg,
                item["site_id"],
                _received(item["received_at"]),
                item["ip"],
                item["user_agent"],
                config,
                request_trust(identities[item["site_id"]], False, [msg]),
            )
        except (Rejected, ValueError):
            failed += 1
            continue
        rows.append(row)
        passed.append(item)
    fresh = dedupe(warehouse, rows)
    events.insert_events(warehouse, fresh)
    quarantine.insert_quarantined(
        warehouse, [{**item, "received_at": _received(item["received_at"])} for item in passed], replayed=1
    )
    return {"loaded": len(fresh), "duplicates": len(rows) - len(fresh), "still_rejected": failed}


def _identity(warehouse, site_id: str) -> tuple[str, bool]:
    site = sites.get_site(warehouse, site_id) or {}
    return site.get("identity_secret", ""), bool(site.get("trust_unsigned", 0))
