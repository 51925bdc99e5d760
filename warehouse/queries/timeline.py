"""A person's visits as the profile shows them: the pure parts, on plain rows.

Which identities the recent tail joins to a person, the stored visits with the
tail's recomputed ones in their place, each visit with its events in order,
and orders with their line items by name. No reads here: ``people.profile``
gathers the rows and calls these.
"""

from __future__ import annotations

import datetime as dt

KNOWN = ("user:", "customer:")


def grow(rows: list[dict], links: list[dict], person_id: str, blocked: set[frozenset] = frozenset()) -> list[dict]:
    """Identities these links join to ``rows``, earliest link first, as rows marked ``live``.

    As the identity job does, a link never joins a second known customer
    (``user:``/``customer:``) to a person who has one, nor an identity an
    operator separated from one of the person's (``blocked`` pairs).
    """
    have = {r["identity"] for r in rows}
    known = {i for i in have if i.startswith(KNOWN)}
    out = []
    for link in sorted(links, key=lambda r: (r["at"], r["a"], r["b"])):
        if link["a"] in have and link["b"] not in have:
            new, via = link["b"], link["a"]
        elif link["b"] in have and link["a"] not in have:
            new, via = link["a"], link["b"]
        else:
            continue
        if new.startswith(KNOWN) and known:
            continue
        if any(frozenset((new, mine)) in blocked for mine in have):
            continue
        have.add(new)
        if new.startswith(KNOWN):
            known.add(new)
        out.append(
            {
                "identity": new,
                "person_id": person_id,
                "via": via,
                "reason": link["reason"],
                "message_id": link["message_id"],
                "linked_at": link["at"],
                "live": True,
            }
        )
    return out


def merge_visits(stored: list[dict], fresh: list[dict], bounds: dict) -> list[dict]:
    """Stored visits with those the tail recomputed in their place, newest first.

    ``bounds`` gives, per visitor the tail touched, the start from which its
    stored visits were recomputed.
    """

    def replaced(visit: dict) -> bool:
        bound = bounds.get(visit["visitor_id"])
        return bound is not None and naive(visit["started_at"]) >= bound

    kept = [v for v in stored if not replaced(v)]
    return sorted(kept + fresh, key=lambda v: naive(v["started_at"]), reverse=True)


def naive(value):
    """A datetime as naive UTC (the backends differ), other values as they are."""
    if getattr(value, "tzinfo", None) is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


NOISE = {"Page Engagement"}


def attach_events(visits: list[dict], events: list[dict]) -> list[dict]:
    """Each visit with ``actions``: its visitor's events within its start and end, oldest first
    (visits older than the events read get none), and the user agent of its first event."""
    by_visitor: dict[str, list[dict]] = {}
    for event in events:
        if event["event"] not in NOISE:
            by_visitor.setdefault(event["visitor_id"], []).append(event)
    out = []
    for visit in visits:
        start, end = naive(visit["started_at"]), naive(visit["ended_at"])
        mine = [e for e in by_visitor.get(visit["visitor_id"], []) if start <= naive(e["timestamp"]) <= end]
        mine.sort(key=lambda e: (naive(e["timestamp"]), e["timestamp_ms"]))
        agents = [e["user_agent"] for e in mine if e["user_agent"]]
        out.append({**visit, "actions": mine, "user_agent": agents[0] if agents else ""})
    return out


def names_in(events: list[dict]) -> dict[str, str]:
    """Product names as the person's own events gave them (the newest first wins)."""
    out: dict[str, str] = {}
    for event in events:
        if event["product_id"] and event["product_name"]:
            out.setdefault(event["product_id"], event["product_name"])
    return out


def line_items(orders: list[dict], names: dict[str, str]) -> list[dict]:
    """Orders, one per order id (the newest message wins), each with ``items``: product id, name
    (the catalogue's, else the id), quantity and unit price."""
    out, seen = [], set()
    for order in orders:
        key = order["order_id"] or order["message_id"]
        if key in seen:
            continue
        seen.add(key)
        quantities, prices = list(order["item_quantities"]), list(order["item_prices"])
        items = [
            {
                "product_id": pid,
                "name": names.get(pid) or pid,
                "quantity": max(quantities[n] if n < len(quantities) else 1, 1),
                "price": prices[n] if n < len(prices) else 0.0,
            }
            for n, pid in enumerate(order["item_ids"])
        ]
        out.append({**order, "items": items})
    return out
