"""Event rows as the loader stores them, and the small shops tests build from them.

``row`` is the one builder: every column at its default, a tracked Product Viewed
by ``a1`` at ``when``, then the fields given. The others differ in how a test
names the time:

- ``event``, ``page``: minutes after a fixed ``T0`` (customer view, sessions, identity);
- ``tracked``, ``order``, ``shop_rows``: at a datetime (segments, scores, KPIs, webhooks);
- ``recent``, ``visit``, ``store_history``: minutes before now, for jobs that look back from today.

``person`` and ``facts`` are the per-person facts the segment rules read.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import uuid

import pandas as pd

from warehouse.queries import events

T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
AS_OF = pd.Timestamp("2026-03-31 12:00:00")
NEVER = pd.Timestamp("1970-01-01")
_SEQ = itertools.count()


def row(site_id: str, when: dt.datetime, **fields) -> dict:
    """One events row at ``when``; ``traits``, ``properties`` and ``context`` may be given as dicts."""
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in events.EVENT_COLUMNS.items()}
    out.update(
        site_id=site_id,
        message_id=uuid.uuid4().hex,
        type="track",
        event="Product Viewed",
        anonymous_id="a1",
        timestamp=when,
        original_timestamp=when,
        sent_at=when,
        received_at=when,
    )
    for key in ("traits", "properties", "context"):
        if isinstance(fields.get(key), dict):
            fields[key] = json.dumps(fields[key], separators=(",", ":"))
    out.update(fields)
    return out


def load(warehouse, rows: list[dict]) -> None:
    events.insert_events(warehouse, rows)


# Minutes after T0.


def event(site_id: str, minute: float, anon: str = "a1", **fields) -> dict:
    """One event row ``minute`` minutes after T0; ``received`` sets received_at."""
    when = T0 + dt.timedelta(minutes=minute)
    received = fields.pop("received", when)
    fields = {"message_id": f"m{next(_SEQ)}", "anonymous_id": anon, "received_at": received, **fields}
    return row(site_id, when, **fields)


def page(site_id: str, minute: float, anon: str = "a1", path: str = "/", **fields) -> dict:
    return event(site_id, minute, anon, type="page", event="", path=path, url=f"https://shop.example{path}", **fields)


# At a datetime.


def tracked(site_id: str, when: dt.datetime, name: str, anonymous_id: str, user_id: str = "", **extra) -> dict:
    """A tracked event row as the collector would store it."""
    return row(site_id, when, **{"event": name, "anonymous_id": anonymous_id, "user_id": user_id, **extra})


def order(site_id: str, when: dt.datetime, anonymous_id: str, order_id: str, revenue: float, items=("p1",), **extra):
    return tracked(
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


SHOP_PRODUCTS = ["p1", "p2", "p3"]
SHOP_VISIT = ["Page Viewed", "Product Viewed", "Product Added", "Checkout Started", "Order Completed"]


def shop_rows(site_id: str, seed: int = 11) -> list[dict]:
    """Forty visitors over three months: visits of a few steps down the funnel, orders, feedback, a bot."""
    rng, rows = random.Random(seed), []
    for p in range(40):
        anonymous, user = f"anon{p}", (f"user{p}" if p % 3 == 0 else "")
        for v in range(rng.randint(1, 4)):
            at = dt.datetime(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 89), minutes=rng.randint(0, 1400))
            when, items = at, rng.sample(SHOP_PRODUCTS, rng.randint(1, 2))
            for k, name in enumerate(SHOP_VISIT[: rng.randint(1, len(SHOP_VISIT))]):
                when += dt.timedelta(minutes=rng.randint(1, 40))  # distinct times: funnel order is then defined
                extra = {"user_id": user if k >= 2 else ""}
                if name == "Order Completed":
                    extra.update(
                        order_id=f"o{p}-{v}",
                        revenue=float(rng.randint(5, 200)),
                        item_ids=items,
                        item_prices=[float(rng.randint(5, 50)) for _ in items],
                        item_quantities=[rng.randint(0, 3) for _ in items],
                    )
                rows.append(tracked(site_id, when, name, anonymous, **extra))
            if rng.random() < 0.7:  # a recommendation clicked up to ten days before the visit, or during it
                clicked = at + dt.timedelta(hours=rng.randint(-240, 2))
                props = json.dumps(
                    {"recommendation_id": f"r{p}-{v}", "item_id": rng.choice(items + SHOP_PRODUCTS)},
                    separators=(",", ":"),
                )
                rows.append(tracked(site_id, clicked, "Recommendation Clicked", anonymous, properties=props))
            if rng.random() < 0.3:
                when = at + dt.timedelta(hours=3)
                rows.append(tracked(site_id, when, "Feedback Submitted", anonymous, score=float(rng.randint(1, 5))))
    rows.append({**tracked(site_id, dt.datetime(2026, 2, 10), "Product Viewed", "crawler"), "is_bot": 1})
    return rows


# Minutes before now.


def recent(site_id: str, anonymous_id: str, name: str, minutes_ago: float = 60, **extra) -> dict:
    """An event ``minutes_ago`` before now (whole seconds); ``props`` are its properties."""
    when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(minutes=minutes_ago)
    props = extra.pop("props", {})
    return row(site_id, when, **{"event": name, "anonymous_id": anonymous_id, "properties": props, **extra})


def visit(site_id: str, visitor: str, viewed: list, bought: list, minutes_ago: float, user_id: str = "") -> list:
    """Views, cart adds and one order, a minute apart."""
    rows = []
    for i, item in enumerate(viewed):
        at = minutes_ago - i
        rows.append(
            recent(
                site_id,
                visitor,
                "Product Viewed",
                at,
                product_id=item,
                user_id=user_id,
                category="Home" if item < "m" else "Toys",
                price=10.0 + ord(item[0]) % 10,
            )
        )
    for item in bought:
        rows.append(
            recent(site_id, visitor, "Product Added", minutes_ago - len(viewed), product_id=item, user_id=user_id)
        )
    if bought:
        rows.append(
            recent(
                site_id,
                visitor,
                "Order Completed",
                minutes_ago - len(viewed) - 1,
                user_id=user_id,
                order_id=uuid.uuid4().hex[:8],
                item_ids=list(bought),
                item_prices=[10.0] * len(bought),
                item_quantities=[1] * len(bought),
                revenue=10.0 * len(bought),
            )
        )
    return rows


def store_history(site_id: str) -> list[dict]:
    """A small store: lamps go with bulbs, toys with batteries; one customer on two devices."""
    rows = []
    for n in range(6):
        rows += visit(site_id, f"v{n}", ["lamp", "bulb", "shade"], ["lamp", "bulb"], 600 + n * 60)
    for n in range(6, 10):
        rows += visit(site_id, f"v{n}", ["robot", "battery", "kite"], ["robot", "battery"], 600 + n * 60)
    rows += visit(site_id, "phone-1", ["lamp", "shade"], [], 300, user_id="alice")
    rows += visit(site_id, "laptop-1", ["robot"], [], 200)
    rows.append(recent(site_id, "laptop-1", "", 190, type="identify", user_id="alice"))
    rows.append(recent(site_id, "x", "Product Viewed", 100, product_id="dusty", props={"out_of_stock": True}))
    return rows


# Person facts, as the segment rules read them.


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
