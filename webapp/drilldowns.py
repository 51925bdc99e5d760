"""KPI drill-downs: the people or orders behind a KPI figure, for the same range and segment.

Every figure on the KPI page that counts people or orders links here; the list
is read by the same definitions as the figure (``warehouse.queries.drilldown``),
so its length is the figure. People are named and linked to their profiles,
and every list exports as CSV with the contact columns of the other exports.
"""

from __future__ import annotations

import pandas as pd
from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l

from activation.export import to_csv
from core import calendars
from warehouse.queries import display as display_store
from warehouse.queries import drilldown as store
from warehouse.queries import segments as segment_store

from .access import current_site, warehouse
from .directory import contact_frame, lookup
from .i18n import site_display
from .insights import csv_download, funnel_steps, kpi_range
from .pages import paginate, sorting

bp = Blueprint("drilldowns", __name__)
PER_PAGE = 50
EXPORT_LIMIT = 100_000
TITLES = {
    "visitors": _l("Visitors"),
    "customers": _l("Customers who ordered"),
    "repeat": _l("Customers who ordered twice or more"),
}


def _title(kind: str) -> str:
    if kind.startswith("step"):
        step = store.FUNNEL_STEPS[int(kind[4:]) - 1]
        return str(_l("Funnel: reached %(step)s", step=funnel_steps()[step]))
    return str(TITLES[kind])


def _scope(site_id: str) -> dict:
    """The range and segment of the KPI page that linked here, checked the way that page checks them."""
    shown = site_display()
    calendar = shown["calendar"]
    start, end, preset = kpi_range(request.args, calendar, calendars.today(shown["timezone"]))
    segments = {r["segment"] for r in segment_store.segment_sizes(warehouse(), site_id)}
    segment = request.args.get("segment") or None
    segment = segment if segment in segments else None
    args = {"from": calendars.iso(start, calendar), "to": calendars.iso(end, calendar)}
    if segment:
        args["segment"] = segment
    return {"start": start, "end": end, "segment": segment, "args": args}


def _kind() -> str:
    kind = request.args.get("show", "visitors")
    if kind not in store.KINDS:
        abort(404)
    return kind


@bp.route("/s/<site_id>/kpis/people")
def people(site_id: str):
    site = current_site()
    kind, scope = _kind(), _scope(site["site_id"])
    query = (warehouse(), site["site_id"], kind, scope["start"], scope["end"], scope["segment"])
    order = sorting(store.PEOPLE_SORTS, "revenue" if kind != "visitors" else "days")
    page = paginate(store.people_count(*query), per_page=PER_PAGE)
    rows = store.people(*query, order.sort, order.descending, page.limit, page.offset) if page.total else []
    args = {**scope["args"], "show": kind}
    return render_template(
        "insights/drilldown_people.html",
        title=_title(kind),
        scope=scope,
        rows=rows,
        people=lookup(site["site_id"], [r["person_id"] for r in rows]),
        page=page,
        sorting=order,
        args=args,
        sort_args={**args, "sort": order.sort, "dir": "desc" if order.descending else "asc"},
    )


@bp.route("/s/<site_id>/kpis/people.csv")
def people_export(site_id: str):
    site = current_site()
    kind, scope = _kind(), _scope(site["site_id"])
    order = sorting(store.PEOPLE_SORTS, "revenue")
    rows = store.people(
        warehouse(), site["site_id"], kind, scope["start"], scope["end"], scope["segment"],
        order.sort, order.descending, EXPORT_LIMIT, 0,
    )  # fmt: skip
    columns = ["person_id", "days", "events", "orders", "revenue", "last_day"]
    frame = pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=columns)
    frame = frame.rename(columns={"days": "days_active", "last_day": "last_active_day"})
    hashed = request.args.get("hashed") == "1"
    stem = f"kpi-{kind}-{scope['args']['from']}-{scope['args']['to']}"
    return csv_download(to_csv(contact_frame(site["site_id"], frame, hashed)), stem + ("-hashed" if hashed else ""))


@bp.route("/s/<site_id>/kpis/orders")
def orders(site_id: str):
    site = current_site()
    scope = _scope(site["site_id"])
    query = (warehouse(), site["site_id"], scope["start"], scope["end"], scope["segment"])
    order = sorting(store.ORDER_SORTS, "time")
    page = paginate(store.order_count(*query), per_page=PER_PAGE)
    rows = store.orders(*query, order.sort, order.descending, page.limit, page.offset) if page.total else []
    names = {p["product_id"]: p["name"] for p in display_store.product_names(warehouse(), site["site_id"])}
    args = scope["args"]
    return render_template(
        "insights/drilldown_orders.html",
        scope=scope,
        rows=rows,
        names=names,
        people=lookup(site["site_id"], [r["person_id"] for r in rows]),
        page=page,
        sorting=order,
        args=args,
        sort_args={**args, "sort": order.sort, "dir": "desc" if order.descending else "asc"},
    )


@bp.route("/s/<site_id>/kpis/orders.csv")
def orders_export(site_id: str):
    site = current_site()
    scope = _scope(site["site_id"])
    order = sorting(store.ORDER_SORTS, "time")
    rows = store.orders(
        warehouse(), site["site_id"], scope["start"], scope["end"], scope["segment"],
        order.sort, order.descending, EXPORT_LIMIT, 0,
    )  # fmt: skip
    frame = pd.DataFrame(
        [
            {
                "person_id": r["person_id"],
                "order_id": r["order_id"],
                "ordered_at": r["ordered_at"],
                "revenue": r["revenue"],
                "products": " ".join(sorted(r["items"] or [])),
            }
            for r in rows
        ],
        columns=["person_id", "order_id", "ordered_at", "revenue", "products"],
    )
    stem = f"kpi-orders-{scope['args']['from']}-{scope['args']['to']}"
    return csv_download(to_csv(contact_frame(site["site_id"], frame)), stem)
