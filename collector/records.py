"""What the collector writes to the spool, and how the loader turns it into rows.

A request's valid messages are spooled as one record, with what the
enrichment needs from the request (site, receive time, client IP already
anonymized when configured, user agent); the loader runs ``to_row`` on each.
Messages refused by the schema are spooled as quarantine rows.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from .pipeline import Rejected, anonymized_context, protect, to_row

REQUEST, QUARANTINE = "request", "quarantine"


def request_record(
    messages: list[dict],
    site_id: str,
    received: dt.datetime,
    ip: str,
    agent: str,
    opt_out: bool = False,
    trust: dict | None = None,
) -> dict:
    """A request's accepted messages, spooled raw; the loader builds rows.

    ``opt_out`` (DNT / GPC) is decided from the request's headers, and
    ``trust`` (``collector.trust``) from its key and the site's identity
    secret; both travel with the record, since the loader no longer sees the
    request. A record without ``trust`` is taken as a browser's."""
    return {
        "opt_out": opt_out,
        "trust": trust,
        "_kind": REQUEST,
        "site_id": site_id,
        "received_at": received.isoformat(sep=" "),
        "ip": ip,
        "user_agent": agent,
        "messages": messages,
    }


def held_row(
    msg, reason: str, detail: str, site_id: str, received: dt.datetime, ip: str, agent: str, anonymize: bool = True
) -> dict:
    """A quarantine row: the raw message with why it was refused.

    The raw message keeps everything a replay needs, except that an IP the
    sender put in ``context.ip`` is anonymized like the ``ip`` column."""
    if anonymize and isinstance(msg, dict) and isinstance(msg.get("context"), dict):
        msg = {**msg, "context": anonymized_context(msg["context"])}
    return {
        "_kind": QUARANTINE,
        "site_id": site_id,
        "quarantine_id": uuid.uuid4().hex,
        "received_at": received.replace(microsecond=0),
        "reason": reason,
        "detail": detail,
        "raw": json.dumps(msg, ensure_ascii=False, separators=(",", ":"), default=str),
        "ip": ip,
        "user_agent": agent,
    }


def weight(item: dict) -> int:
    """Rows an item of the spool becomes (for the loader's batch size)."""
    return len(item.get("messages", ())) if item.get("_kind") == REQUEST else 1


def expand(items: list[dict], config: dict) -> list[dict]:
    """Spooled items as warehouse rows: events (``_kind`` absent) and quarantine rows."""
    from warehouse.queries.events import completed_row

    rows = []
    for item in items:
        if item.get("_kind") != REQUEST:
            rows.append(item if item.get("_kind") is not None else completed_row(item))
            continue
        received = dt.datetime.fromisoformat(item["received_at"])
        for msg in item["messages"]:
            try:
                row = to_row(msg, item["site_id"], received, item["ip"], item["user_agent"], config, item.get("trust"))
                rows.append(protect(row, config, item.get("opt_out", False)))
            except (Rejected, KeyError, TypeError, ValueError) as exc:
                reason, detail = getattr(exc, "reason", "bad_schema"), getattr(exc, "detail", str(exc))
                rows.append(
                    held_row(msg, reason, detail, item["site_id"], received, item["ip"], item["user_agent"],
                             config["ANONYMIZE_IP"])
                )  # fmt: skip
    return rows


def build(items: list[dict], config: dict):
    """``expand``, with the events as insertable columns: ``(events columns, quarantine rows)``.

    Columns of plain values go to the driver or to Arrow as they are, and
    cross back from the loader's worker processes far cheaper than tens of
    thousands of dicts.
    """
    from warehouse.queries.events import event_columns

    rows = expand(items, config)
    held = [r for r in rows if r.get("_kind") is not None]
    return event_columns([r for r in rows if r.get("_kind") is None]), held
