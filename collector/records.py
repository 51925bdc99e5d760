"""What the collector writes to the spool, and how the loader turns it into rows.

A request's valid messages are spooled as one record, with what the
enrichment needs from the request (site, receive time, client IP already
anonymized when configured, user agent); the loader builds their rows
(``pipeline.EventColumns``). Messages refused by the schema are spooled as
quarantine rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from .pipeline import EventColumns, anonymized_context

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
    raw = json.dumps(msg, ensure_ascii=False, separators=(",", ":"), default=str)
    received = received.replace(microsecond=0)
    return {
        "_kind": QUARANTINE,
        "site_id": site_id,
        "quarantine_id": quarantine_id(site_id, received, reason, raw),
        "received_at": received,
        "reason": reason,
        "detail": detail,
        "raw": raw,
        "ip": ip,
        "user_agent": agent,
    }


def quarantine_id(site_id: str, received: dt.datetime, reason: str, raw: str) -> str:
    """The same for the same message refused for the same reason in the same second: a loader
    pass that is retried (one of its worker shares failed) quarantines its messages again, and
    they must not count twice. Messages without an id are deduplicated by content as well."""
    key = f"{site_id}|{received:%Y-%m-%d %H:%M:%S}|{reason}|{raw}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def weight(item: dict) -> int:
    """Rows an item of the spool becomes (for the loader's batch size)."""
    return len(item.get("messages", ())) if item.get("_kind") == REQUEST else 1


def build(items: list[dict], config: dict) -> tuple[dict[str, list], list[dict]]:
    """Spooled items as ``(events columns, quarantine rows)``.

    Columns of plain values (``pipeline.EventColumns``) go to the driver or
    to Arrow as they are. A message that makes no row is quarantined with why.
    """
    from warehouse.queries.events import completed_row

    events, held = EventColumns(config), []
    for item in items:
        kind = item.get("_kind")
        if kind != REQUEST:
            if kind is None:
                events.add_row(completed_row(item))
            else:
                held.append(item)
            continue
        site_id, ip, agent = item["site_id"], item["ip"], item["user_agent"]
        received = dt.datetime.fromisoformat(item["received_at"])
        failed = events.add(
            item["messages"], site_id, received, ip, agent, item.get("trust"), item.get("opt_out", False)
        )
        for msg, exc in failed:
            reason, detail = getattr(exc, "reason", "bad_schema"), getattr(exc, "detail", str(exc))
            held.append(held_row(msg, reason, detail, site_id, received, ip, agent, config["ANONYMIZE_IP"]))
    return events.columns, held
