"""The demo: a real store's history, sent through the collector as a tracker would.

The Online Retail (France) invoices become Segment events: each order is a
visit with product views, cart adds, a checkout, a login (identify) and the
order itself; cancellations become refunds. Visits that bought nothing
(searches, product views, carts left behind) come from the browsing model of
``storefront.browsing``, fitted to the same invoices. Customers shop from two devices,
so identity stitching has real work. Like a real store's server, the demo
signs each customer id with the site's identity secret (the ``userHash`` in
the context of every message that names the customer), so the collector
trusts those ids. Times are shifted so the history ends yesterday, keeping
"last 30 days" views meaningful; message ids are stable, so loading twice
stores everything once.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import urllib.error
import urllib.request
from typing import Callable, Iterator

import pandas as pd

from core.identity import user_hash
from storefront.browsing import DEFAULT, BrowsingModel, browsing_visits


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _product(line) -> dict:
    return {
        "product_id": line.StockCode,
        "name": line.Description.title(),
        "price": float(line.UnitPrice),
        "quantity": abs(int(line.Quantity)),
        "currency": "GBP",
    }


def retail_events(frame: pd.DataFrame, end: dt.datetime, identity_secret: str = "") -> list[dict]:
    """Segment messages for every invoice, in time order; customer ids signed with ``identity_secret``."""
    shift = end - frame["InvoiceDate"].max().to_pydatetime()
    messages = []
    for invoice, lines in frame.groupby("InvoiceNo", sort=False):
        messages.extend(invoice_events(invoice, lines, shift, identity_secret))
    messages.sort(key=lambda m: m["timestamp"])
    return messages


def invoice_events(invoice: str, lines: pd.DataFrame, shift: dt.timedelta, identity_secret: str = "") -> list[dict]:
    """One invoice as the visit that led to it (or, if cancelled, a refund)."""
    first = lines.iloc[0]
    customer = int(first.CustomerID)
    at = first.InvoiceDate.to_pydatetime() + shift
    device = f"anon-{customer}-{int(invoice.lstrip('C')) % 2}"
    user = f"cust-{customer}"
    products = [_product(line) for line in lines.itertuples()]
    total = round(sum(p["price"] * p["quantity"] for p in products), 2)
    context = {
        "page": {"url": "https://demo.basirat.shop/", "path": "/", "title": "Gift shop"},
        "userAgent": "Mozilla/5.0 (demo)",
        "locale": "fr-FR",
        "library": {"name": "basirat-demo", "version": "1"},
    }

    signed = {**context, "userHash": user_hash(identity_secret, user)} if identity_secret else context

    def msg(n: int, minutes: float, **fields) -> dict:
        return {
            "messageId": f"demo-{invoice}-{n}",
            "anonymousId": device,
            "context": signed if "userId" in fields else context,
            "timestamp": _iso(at - dt.timedelta(minutes=minutes)),
            **fields,
        }

    if invoice.startswith("C"):
        return [
            msg(
                0,
                0,
                type="track",
                event="Order Refunded",
                userId=user,
                properties={"order_id": invoice, "total": total, "currency": "GBP", "products": products},
            )
        ]
    out = [msg(0, 25, type="page", name="Home", properties={"title": "Home", "path": "/"})]
    for i, product in enumerate(products):
        out.append(msg(1 + i, 24 - 12 * i / len(products), type="track", event="Product Viewed", properties=product))
    out.append(msg(900, 11, type="track", event="Cart Viewed", properties={"products": products}))
    for i, product in enumerate(products):
        out.append(msg(1000 + i, 10 - 5 * i / len(products), type="track", event="Product Added", properties=product))
    out.append(
        msg(
            2000,
            4,
            type="track",
            event="Checkout Started",
            properties={"order_id": invoice, "total": total, "products": products},
        )
    )
    out.append(
        msg(
            2001,
            3,
            type="identify",
            userId=user,
            traits={"email": f"customer{customer}@example.com", "country": first.Country},
        )
    )
    out.append(
        msg(
            2002,
            0,
            type="track",
            event="Order Completed",
            userId=user,
            properties={"order_id": invoice, "total": total, "revenue": total, "currency": "GBP", "products": products},
        )
    )
    return out


def browsing_events(frame: pd.DataFrame, end: dt.datetime, model: BrowsingModel = DEFAULT) -> list[dict]:
    """Segment messages for the visits that did not end in an order, shifted like the orders."""
    shift = end - frame["InvoiceDate"].max().to_pydatetime()
    lines = frame[~frame["InvoiceNo"].str.startswith("C")].drop_duplicates("StockCode").set_index("StockCode")
    messages = []
    for row in browsing_visits(frame, model).itertuples():
        at = row.at.to_pydatetime() + shift
        if row.action == "search":
            path, title, event, props = f"/search?q={row.query}", "Search", "Products Searched", {"query": row.query}
        elif row.action == "checkout":
            path, title, event, props = "/checkout", "Checkout", "Checkout Started", {}
        else:
            line = lines.loc[row.product_id]
            props = {
                "product_id": row.product_id,
                "name": line.Description.title(),
                "price": float(line.UnitPrice),
                "currency": "GBP",
            }
            path, title = f"/product/{row.product_id}", line.Description.title()
            event = "Product Viewed" if row.action == "view" else "Product Added"
        page = {"url": f"https://demo.basirat.shop{path}", "path": path, "title": title}
        context = {"page": page, "userAgent": "Mozilla/5.0 (demo)", "locale": "fr-FR"}
        context["library"] = {"name": "basirat-demo", "version": "1"}
        common = {"messageId": f"demo-{row.visit}-{row.step}", "anonymousId": row.anonymous_id, "context": context}
        if row.step == 0:
            home = {**context, "page": {"url": "https://demo.basirat.shop/", "path": "/", "title": "Gift shop"}}
            messages.append(
                {
                    **common,
                    "messageId": f"demo-{row.visit}-home",
                    "context": home,
                    "type": "page",
                    "name": "Home",
                    "properties": {"title": "Home", "path": "/"},
                    "timestamp": _iso(at - dt.timedelta(seconds=15)),
                }
            )
        messages.append({**common, "type": "track", "event": event, "properties": props, "timestamp": _iso(at)})
    return messages


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def send(url: str, write_key: str, messages: list[dict], progress: Callable[[str], None], batch: int = 200) -> int:
    """POST messages to /v1/batch, retrying 429/503 as a tracker would."""
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    sent = 0
    for part in chunks(messages, batch):
        body = json.dumps({"batch": part, "sentAt": _iso(dt.datetime.now(dt.timezone.utc))}).encode()
        request = urllib.request.Request(
            url.rstrip("/") + "/v1/batch",
            data=body,
            method="POST",
            headers={"Authorization": auth, "Content-Type": "application/json"},
        )
        for attempt in range(10):
            try:
                with urllib.request.urlopen(request, timeout=30):
                    break
            except urllib.error.HTTPError as exc:
                if exc.code not in (429, 503) or attempt == 9:
                    raise
                time.sleep(1 + attempt)
        sent += len(part)
        if sent % 2000 < batch or sent == len(messages):
            progress(f"demo: sent {sent}/{len(messages)} events")
    return sent
