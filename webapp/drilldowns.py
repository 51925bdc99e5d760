"""KPI drill-downs: the people or orders behind a KPI figure, for the same range and segment.

Every figure on the KPI page that counts people or orders links here; the list
is read by the same definitions as the figure (``warehouse.queries.drilldown``),
so its length is the figure. People are named and linked to their profiles,
and every list exports as CSV with the contact columns of the other exports.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from activation.export import to_csv
from core import calendars, locales
from warehouse.queries import display as display_store
from warehouse.queries import drilldown as store
from warehouse.queries import segments as segment_store

from .access import current_site, warehouse
from .directory import contact_frame, lookup
from .i18n import site_display, tag
from .insights import csv_download, funnel_steps, kpi_range, month_bounds
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
    return {"start": start, "end": end, "segment": segment, "args": args, "timezone": shown["timezone"]}


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
    zone = {"timezone": scope["timezone"]}
    page = paginate(store.people_count(*query, **zone), per_page=PER_PAGE)
    rows = store.people(*query, order.sort, order.descending, page.limit, page.offset, **zone) if page.total else []
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
        endpoint="drilldowns.people",
        export="drilldowns.people_export",
        sort_args=order.keep(args),
    )


@bp.route("/s/<site_id>/kpis/people.csv")
def people_export(site_id: str):
    site = current_site()
    kind, scope = _kind(), _scope(site["site_id"])
    order = sorting(store.PEOPLE_SORTS, "revenue")
    rows = store.people(
        warehouse(), site["site_id"], kind, scope["start"], scope["end"], scope["segment"],
        order.sort, order.descending, EXPORT_LIMIT, 0, timezone=scope["timezone"],
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
    zone = {"timezone": scope["timezone"]}
    page = paginate(store.order_count(*query, **zone), per_page=PER_PAGE)
    rows = store.orders(*query, order.sort, order.descending, page.limit, page.offset, **zone) if page.total else []
    names = display_store.names_of_products(warehouse(), site["site_id"], [i for r in rows for i in r["items"] or []])
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
        sort_args=order.keep(args),
    )


@bp.route("/s/<site_id>/kpis/orders.csv")
def orders_export(site_id: str):
    site = current_site()
    scope = _scope(site["site_id"])
    order = sorting(store.ORDER_SORTS, "time")
    rows = store.orders(
        warehouse(), site["site_id"], scope["start"], scope["end"], scope["segment"],
        order.sort, order.descending, EXPORT_LIMIT, 0, timezone=scope["timezone"],
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


def _cell() -> tuple[dt.date, int]:
    """The retention cell asked for: its cohort's first day (as the KPI page names it) and months later."""
    try:
        cohort = dt.date.fromisoformat(request.args.get("cohort", ""))
        later = int(request.args.get("later", ""))
    except ValueError:
        abort(404)
    if not 0 <= later <= 1200:
        abort(404)
    return cohort, later


def _cohort_query(site_id: str):
    scope, (cohort, later) = _scope(site_id), _cell()
    shown = site_display()
    months = month_bounds(shown["calendar"], max(scope["end"], calendars.today(shown["timezone"])))
    return scope, cohort, later, (warehouse(), site_id, cohort, later, scope["segment"], months)


def _cohort_title(cohort_day: dt.date, later: int) -> str:
    month = locales.month(cohort_day, tag(), site_display()["calendar"])
    if not later:
        return _("Customers who first ordered in %(month)s", month=month)
    return _(
        "Customers who first ordered in %(month)s and ordered %(later)s months later",
        month=month,
        later=locales.number(later, tag()),
    )


@bp.route("/s/<site_id>/kpis/cohort")
def cohort(site_id: str):
    """The people of one retention cell: first order in the cohort's month, ordering again ``later`` months on."""
    site = current_site()
    scope, cohort_day, later, query = _cohort_query(site["site_id"])
    order = sorting(store.COHORT_SORTS, "revenue")
    zone = {"timezone": scope["timezone"]}
    page = paginate(store.cohort_count(*query, **zone), per_page=PER_PAGE)
    rows = (
        store.cohort_people(*query, order.sort, order.descending, page.limit, page.offset, **zone) if page.total else []
    )
    args = {**scope["args"], "cohort": cohort_day.isoformat(), "later": later}
    return render_template(
        "insights/drilldown_people.html",
        title=_cohort_title(cohort_day, later),
        cohort=cohort_day,
        later=later,
        scope=scope,
        rows=rows,
        people=lookup(site["site_id"], [r["person_id"] for r in rows]),
        page=page,
        sorting=order,
        args=args,
        endpoint="drilldowns.cohort",
        export="drilldowns.cohort_export",
        sort_args=order.keep(args),
    )


@bp.route("/s/<site_id>/kpis/cohort.csv")
def cohort_export(site_id: str):
    site = current_site()
    scope, cohort_day, later, query = _cohort_query(site["site_id"])
    order = sorting(store.COHORT_SORTS, "revenue")
    rows = store.cohort_people(*query, order.sort, order.descending, EXPORT_LIMIT, 0, timezone=scope["timezone"])
    frame = pd.DataFrame(
        [{"person_id": r["person_id"], "orders": r["orders"], "revenue": r["revenue"]} for r in rows],
        columns=["person_id", "orders", "revenue"],
    )
    hashed = request.args.get("hashed") == "1"
    stem = f"kpi-cohort-{cohort_day.isoformat()}-plus-{later}" + ("-hashed" if hashed else "")
    return csv_download(to_csv(contact_frame(site["site_id"], frame, hashed)), stem)
