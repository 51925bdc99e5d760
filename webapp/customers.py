"""Customers: every scored person in one sortable, paged, filterable grid, with one-click
views ("most valuable", "about to leave", "likely to buy X") and an export of any view.

Sorting, filtering and paging happen in ClickHouse (``warehouse.queries.directory``);
the page then asks who each person of the page is with one more query.
"""

from __future__ import annotations

import pandas as pd
from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from activation.export import to_csv
from warehouse.queries import directory as store
from warehouse.queries import display as display_store
from warehouse.queries import segments as segment_store

from .access import current_site, warehouse
from .directory import contact_frame, lookup
from .insights import csv_download, product_matches
from .pages import NavItem, paginate, sorting

bp = Blueprint("customers", __name__)
NAV = [NavItem(_l("Customers"), "customers.index", order=22)]
PER_PAGE = 50
EXPORT_LIMIT = 100_000
CHURN_AT_RISK = 0.5


def _filters(site_id: str) -> dict:
    """The filters asked for, each checked: a segment the site has, a product found by id or
    name, a churn risk between 0 and 100 percent."""
    segments = [r["segment"] for r in segment_store.segment_sizes(warehouse(), site_id)]
    segment = request.args.get("segment", "")
    segment = segment if segment in segments else ""
    typed = request.args.get("product", "").strip()[:200]
    product, candidates = "", []
    if typed:
        candidates = product_matches(display_store.product_names(warehouse(), site_id), typed)
        if len(candidates) == 1:
            product = candidates[0]["product_id"]
    try:
        min_churn = float(request.args.get("churn", "")) / 100
        min_churn = min(max(min_churn, 0.0), 1.0)
    except ValueError:
        min_churn = None
    return {
        "segments": segments,
        "segment": segment,
        "typed": typed,
        "product": product,
        "candidates": candidates if len(candidates) > 1 else [],
        "product_missing": bool(typed) and not candidates,
        "min_churn": min_churn,
    }


def _sorting(f: dict):
    """By predicted value; by how strongly the person model recommends the product when one is asked for."""
    if f["product"]:
        return sorting(store.SORTS, "likely")
    return sorting([s for s in store.SORTS if s != "likely"], "value")


def _query(f: dict) -> dict:
    return {"segment": f["segment"], "product": f["product"], "min_churn": f["min_churn"]}


def _args(f: dict) -> dict:
    """The filters as they go back into links (sort headers, pages, export)."""
    out = {"segment": f["segment"], "product": f["typed"]}
    if f["min_churn"] is not None:
        out["churn"] = round(f["min_churn"] * 100)
    return {k: v for k, v in out.items() if v not in ("", None)}


@bp.route("/s/<site_id>/customers")
def index(site_id: str):
    site = current_site()
    f = _filters(site["site_id"])
    order = _sorting(f)
    empty = f["product_missing"] or bool(f["candidates"])
    total = 0 if empty else store.customer_count(warehouse(), site["site_id"], **_query(f))
    page = paginate(total, per_page=PER_PAGE)
    rows = []
    if total:
        rows = store.customers(
            warehouse(), site["site_id"], order.sort, order.descending, page.limit, page.offset, **_query(f)
        )
    people = lookup(site["site_id"], [r["person_id"] for r in rows])
    args = _args(f)
    return render_template(
        "customers/index.html",
        rows=rows,
        people=people,
        page=page,
        sorting=order,
        filters=f,
        args=args,
        sort_args=order.keep(args),
        churn_at_risk=round(CHURN_AT_RISK * 100),
    )


@bp.route("/s/<site_id>/customers/export.csv")
def export(site_id: str):
    """The filtered view as it is sorted, every page of it; ``hashed=1`` for ad platforms."""
    site = current_site()
    f = _filters(site["site_id"])
    order = _sorting(f)
    rows = []
    if not (f["product_missing"] or f["candidates"]):
        rows = store.customers(warehouse(), site["site_id"], order.sort, order.descending, EXPORT_LIMIT, 0, **_query(f))
    frame = pd.DataFrame(
        [
            {
                "person_id": r["person_id"],
                "segments": " ".join(r.get("segments") or []),
                "rfm": f"{r['recency_score']}-{r['frequency_score']}-{r['monetary_score']}",
                "orders": r["orders"],
                "revenue": r["historic_value"],
                "predicted_value_12_months": r["predicted_value"],
                "churn_risk_percent": None if r["churn_risk"] is None else round(100 * r["churn_risk"], 1),
                **({"recommendation_score": r["likelihood"]} if f["product"] else {}),
            }
            for r in rows
        ],
        columns=[
            "person_id",
            "segments",
            "rfm",
            "orders",
            "revenue",
            "predicted_value_12_months",
            "churn_risk_percent",
            *(["recommendation_score"] if f["product"] else []),
        ],
    )
    hashed = request.args.get("hashed") == "1"
    return csv_download(
        to_csv(contact_frame(site["site_id"], frame, hashed)), "customers-hashed" if hashed else "customers"
    )
