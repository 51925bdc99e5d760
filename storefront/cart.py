"""The cart and recent orders, kept in the visitor's signed session cookie."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import session

from .catalog import Catalog, Product

MAX_QUANTITY = 99
KEEP_ORDERS = 3


@dataclass
class Line:
    product: Product
    quantity: int

    @property
    def subtotal(self) -> float:
        return round(self.product.price * self.quantity, 2)


def _clamp(quantity) -> int:
    try:
        return max(0, min(int(quantity), MAX_QUANTITY))
    except (TypeError, ValueError):
        return 0


def add(product_id: str, quantity) -> None:
    cart = dict(session.get("cart", {}))
    cart[product_id] = _clamp(cart.get(product_id, 0) + _clamp(quantity))
    session["cart"] = {k: v for k, v in cart.items() if v}


def update(product_id: str, quantity) -> None:
    cart = dict(session.get("cart", {}))
    cart[product_id] = _clamp(quantity)
    session["cart"] = {k: v for k, v in cart.items() if v}


def lines(catalog: Catalog) -> list[Line]:
    out = []
    for product_id, quantity in session.get("cart", {}).items():
        product = catalog.get(product_id)
        if product is not None:
            out.append(Line(product, quantity))
    return out


def count() -> int:
    return sum(session.get("cart", {}).values())


def total(items: list[Line]) -> float:
    return round(sum(line.subtotal for line in items), 2)


def place_order(catalog: Catalog) -> str | None:
    """Turn the cart into an order; returns its id (None for an empty cart)."""
    items = lines(catalog)
    if not items:
        return None
    order_id = "BS-" + secrets.token_hex(4).upper()
    orders = dict(session.get("orders", {}))
    orders[order_id] = {"lines": [[line.product.product_id, line.quantity] for line in items], "tracked": False}
    session["orders"] = dict(list(orders.items())[-KEEP_ORDERS:])
    session["cart"] = {}
    return order_id


def order(catalog: Catalog, order_id: str) -> tuple[list[Line], bool] | None:
    """An order's lines and whether it is shown for the first time (then marks it shown)."""
    orders = session.get("orders", {})
    if order_id not in orders:
        return None
    entry = orders[order_id]
    items = [Line(p, q) for p, q in ((catalog.get(pid), q) for pid, q in entry["lines"]) if p is not None]
    first = not entry["tracked"]
    if first:
        session["orders"] = {**orders, order_id: {**entry, "tracked": True}}
    return items, first
