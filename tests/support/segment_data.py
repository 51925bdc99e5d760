"""Tiny factories for segment and score tests: person facts and event rows."""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd

from warehouse.queries import events

AS_OF = pd.Timestamp("2026-03-31 12:00:00")
NEVER = pd.Timestamp("1970-01-01")


def person(person_id: str, **values) -> dict:
    """One person's facts, defaults meaning "seen once, did nothing"."""
    base = {
        "person_id": person_id,
        "first_seen": AS_OF - pd.Timedelta(days=60),
        "last_seen": AS_OF - pd.Timedelta(days=60),
        "active_days": 1,
        "product_views": 0,
        "cart_adds": 0,
        "orders": 0,
        "revenue": 0.0,
        "deal_orders": 0,
        "first_order_at": NEVER,
        "last_order_at": NEVER,
        "last_cart_at": NEVER,
        "open_cart_value": 0.0,
    }
    return {**base, **values}


def facts(*people: dict) -> pd.DataFrame:
    return pd.DataFrame(list(people))


def event(site_id: str, when: dt.datetime, name: str, anonymous_id: str, user_id: str = "", **extra) -> dict:
    """A tracked event row as the collector would store it."""
    return {
        **events.EVENT_COLUMNS,
        "site_id": site_id,
        "message_id": uuid.uuid4().hex,
        "type": "track",
        "event": name,
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "timestamp": when,
        "original_timestamp": when,
        "sent_at": when,
        "received_at": when,
        **extra,
    }


def order(site_id: str, when: dt.datetime, anonymous_id: str, order_id: str, revenue: float, items=("p1",), **extra):
    return event(
        site_id,
        when,
        "Order Completed",
        anonymous_id,
        order_id=order_id,
        revenue=revenue,
        item_ids=list(items),
        item_prices=[revenue / len(items)] * len(items),
        item_quantities=[1] * len(items),
        **extra,
    )
