"""How a site shows dates and money, and which language each admin user reads.

Both are versioned rows read with argMax; a site without a row follows the
install's settings, a user without one the browser.
"""

from __future__ import annotations

import time

import pandas as pd

from warehouse.engine.connection import Warehouse

FIELDS = ("calendar", "timezone", "currency", "money_unit")
NO_MONEY = {"currency": "", "money_unit": ""}


def site_display(warehouse: Warehouse, site_id: str) -> dict | None:
    """The site's calendar, time zone, currency and money unit; None if they were never set."""
    rows = warehouse.query(
        "SELECT argMax(calendar, version) AS calendar, argMax(timezone, version) AS timezone, "
        "argMax(currency, version) AS currency, argMax(money_unit, version) AS money_unit "
        "FROM site_display WHERE site_id = {site_id:String} GROUP BY site_id",
        {"site_id": site_id},
    )
    return rows[0] if rows else None


def save_site_display(warehouse: Warehouse, site_id: str, values: dict) -> None:
    """A new version of the site's display settings (every field of ``FIELDS``)."""
    row = {"site_id": site_id, **{k: str(values[k]) for k in FIELDS}, "version": time.time_ns()}
    warehouse.insert("site_display", pd.DataFrame([row]).astype({"version": "uint64"}))


def user_locale(warehouse: Warehouse, user_id: str) -> str:
    rows = warehouse.query(
        "SELECT argMax(locale, version) AS locale FROM user_locale WHERE user_id = {user_id:String}",
        {"user_id": user_id},
    )
    return rows[0]["locale"] if rows else ""


def save_user_locale(warehouse: Warehouse, user_id: str, locale: str) -> None:
    frame = pd.DataFrame([{"user_id": user_id, "locale": locale, "version": time.time_ns()}])
    warehouse.insert("user_locale", frame.astype({"version": "uint64"}))


def product_names(warehouse: Warehouse, site_id: str, limit: int = 100_000) -> list[dict]:
    """Every product's current name (the catalogue the recommendation jobs keep), for name search."""
    return warehouse.query(
        "SELECT product_id, argMax(name, version) AS name FROM products WHERE site_id = {site_id:String} "
        "GROUP BY product_id ORDER BY product_id LIMIT {limit:UInt32}",
        {"site_id": site_id, "limit": limit},
    )


def names_of_products(warehouse: Warehouse, site_id: str, product_ids: list[str]) -> dict[str, str]:
    """Catalogue names of these products (those the catalogue has)."""
    if not product_ids:
        return {}
    rows = warehouse.query(
        "SELECT product_id, argMax(name, version) AS name FROM products WHERE site_id = {site_id:String} "
        "AND product_id IN (SELECT arrayJoin({ids:Array(String)})) GROUP BY product_id",
        {"site_id": site_id, "ids": sorted(set(product_ids))},
    )
    return {r["product_id"]: r["name"] for r in rows if r["name"]}
