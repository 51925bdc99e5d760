"""Analytics pages: the KPI dashboard, segments with members and export, product audiences."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from activation.export import to_csv
from core import calendars, locales
from core.text import fold, matches
from mining.audience import site_audience
from warehouse.queries import conditions as condition_store
from warehouse.queries import display as display_store
from warehouse.queries import drilldown as drilldown_store
from warehouse.queries import kpis as kpi_store
from warehouse.queries import segments as segment_store

from .access import current_site, warehouse
from .directory import contact_frame, lookup, value_column, value_header, value_kind
from .i18n import number, site_display, tag
from .pages import NavItem, paginate, sort_rows, sorting

bp = Blueprint("insights", __name__)
NAV = [
    NavItem(
        _l("KPIs"),
        "insights.kpis",
        order=15,
        covers=("drilldowns.people", "drilldowns.orders", "drilldowns.cohort"),
    ),
    NavItem(
        _l("Segments"),
        "insights.segments",
        order=25,
        covers=("insights.segment", "builder.new", "builder.edit"),
    ),
    NavItem(_l("Audiences"), "insights.audience", order=26),
]
EPOCH = dt.date(1970, 1, 1)
MAX_DAYS = 731


def _unix(day) -> int:
    return (dt.date.fromisoformat(str(day)[:10]) - EPOCH).days * 86400


# Days a range may cover: what a stored time (ClickHouse's DateTime) can hold, with room for any zone.
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 2), dt.date(2105, 12, 31)


def _date_arg(args, name: str, default: dt.date, calendar: str) -> dt.date:
    try:
        day = calendars.parse(args.get(name, ""), calendar)
    except (ValueError, OverflowError):
        return default
    return day if FIRST_DAY <= day <= LAST_DAY else default


def date_errors(args, calendar: str) -> dict[str, str]:
    """What is wrong with the typed ``from``/``to`` dates, by field (the page then shows its default range)."""
    errors = {}
    for name in ("from", "to"):
        text = args.get(name, "")
        if not text or args.get("range"):
            continue
        try:
            day = calendars.parse(text, calendar)
        except (ValueError, OverflowError):
            errors[name] = (
                _(
                    "“%(text)s” is not a date of the Jalali calendar: type it as YYYY-MM-DD, such as 1404-10-01.",
                    text=text,
                )
                if calendar == "jalali"
                else _("“%(text)s” is not a date: type it as YYYY-MM-DD, such as 2026-01-31.", text=text)
            )
            continue
        if not FIRST_DAY <= day <= LAST_DAY:
            first, last = (locales.digits(calendars.iso(d, calendar), tag()) for d in (FIRST_DAY, LAST_DAY))
            errors[name] = _(
                "%(text)s is out of range: dates from %(first)s to %(last)s only.", text=text, first=first, last=last
            )
    return errors


PRESETS = ("this_month", "last_month", "last_30_days")


def kpi_range(args, calendar: str, today: dt.date) -> tuple[dt.date, dt.date, str]:
    """``?range=this_month|last_month|last_30_days`` or ``?from=&to=`` typed in the site's calendar
    (the last 30 days by default): (start, end, preset), ordered and at most two years long.
    Months are the site calendar's: "this month" on a Jalali site is the Persian month."""
    preset = args.get("range", "")
    if preset == "this_month":
        return calendars.month_start(today, calendar), today, preset
    if preset == "last_month":
        start, end = calendars.month_range(calendars.month_start(today, calendar) - dt.timedelta(days=1), calendar)
        return start, end, preset
    if not args.get("from") and not args.get("to"):
        return today - dt.timedelta(days=29), today, "last_30_days"
    end = _date_arg(args, "to", today, calendar)
    start = _date_arg(args, "from", end - dt.timedelta(days=29), calendar)
    start, end = min(start, end), max(start, end)
    return max(start, end - dt.timedelta(days=MAX_DAYS)), end, ""


def daily_chart(frame, columns: dict, start: dt.date, end: dt.date, kind: str = "line") -> dict:
    """Per-day series over every day of the range, zeros where nothing happened."""
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    by_day = {str(r["date"])[:10]: r for r in frame.to_dict("records")}
    series = [
        {"label": label, "values": [float(by_day.get(d.isoformat(), {}).get(col, 0) or 0) for d in days]}
        for col, label in columns.items()
    ]
    return {"kind": kind, "x_label": _("Day"), "x": [_unix(d) for d in days], "series": series}


def satisfaction_chart(frame) -> dict:
    """Answers per score, one bar series per score, by month."""
    months = sorted({str(m)[:10] for m in frame["month"]})
    scores = sorted({float(s) for s in frame["score"]})
    counts = {(str(r["month"])[:10], float(r["score"])): int(r["answers"]) for r in frame.to_dict("records")}
    series = [
        {
            "label": _("Score %(score)s", score=number(s, 0 if s.is_integer() else 1)),
            "values": [counts.get((m, s), 0) for m in months],
        }
        for s in scores
    ]
    return {"kind": "bars", "unit": "month", "x_label": _("Month"), "x": [_unix(m) for m in months], "series": series}


def retention_table(frame) -> list[dict]:
    """One row per cohort: its size and the share still ordering each month after."""
    rows: dict[str, dict] = {}
    for r in frame.to_dict("records"):
        row = rows.setdefault(str(r["cohort"])[:10], {"cohort": str(r["cohort"])[:10], "cells": {}})
        row["cells"][int(r["months_later"])] = int(r["customers"])
    for row in rows.values():
        size = row["cells"].get(0, 0) or 1
        row["size"] = row["cells"].get(0, 0)
        row["shares"] = [round(100 * row["cells"].get(k, 0) / size) for k in range(max(row["cells"]) + 1)]
    return list(rows.values())


def picker_labels(calendar: str, today: dt.date) -> dict | None:
    """Month and day names and the site's today for the Jalali date picker (None on Gregorian sites:
    the browser's own date input)."""
    if calendar != "jalali":
        return None
    return {**locales.jalali_picker(tag()), "today": calendars.iso(today, calendar)}


def funnel_steps() -> dict:
    return {
        "Product Viewed": _("Product Viewed"),
        "Product Added": _("Product Added"),
        "Checkout Started": _("Checkout Started"),
        "Order Completed": _("Order Completed"),
    }


FIRST_MONTH = dt.date(2000, 1, 1)


def month_bounds(calendar: str, today: dt.date) -> list[dt.date] | None:
    """Month starts of a non-Gregorian calendar past every order, for cohorts (None: ClickHouse's months)."""
    if calendar == "gregorian":
        return None
    return calendars.month_starts(FIRST_MONTH, today + dt.timedelta(days=366), calendar)


@bp.route("/s/<site_id>/kpis")
def kpis(site_id: str):
    site = current_site()
    shown = site_display()
    calendar = shown["calendar"]
    today = calendars.today(shown["timezone"])
    start, end, preset = kpi_range(request.args, calendar, today)
    errors = date_errors(request.args, calendar)
    segments = [r["segment"] for r in segment_store.segment_sizes(warehouse(), site["site_id"])]
    segment = request.args.get("segment") or None
    if segment and segment not in segments:
        segment = None
    args = (warehouse(), site["site_id"], start, end, segment)
    zone = {"timezone": shown["timezone"]}
    months = month_bounds(calendar, max(end, today))
    timeout = int(current_app.config["SESSION_TIMEOUT_MINUTES"])
    visitors, sessions = kpi_store.visitors(*args, **zone), kpi_store.sessions(*args, **zone, timeout_minutes=timeout)
    revenue, recommended = kpi_store.revenue(*args, **zone), kpi_store.recommendation_revenue(*args, **zone)
    traffic = visitors.merge(sessions, on="date", how="outer") if len(sessions) else visitors.assign(sessions=0)
    orders = int(revenue["orders"].sum()) if len(revenue) else 0
    context = {
        # Nothing in the range: the page says what to do instead of drawing empty charts.
        "has_data": bool(orders or (len(visitors) and visitors["visitors"].sum() > 0)),
        "start": start,
        "end": end,
        "preset": preset,
        "start_field": calendars.iso(start, calendar),
        "end_field": calendars.iso(end, calendar),
        "errors": errors,
        "picker": picker_labels(calendar, today),
        "steps": funnel_steps(),
        "segment": segment,
        "segments": segments,
        "orders": orders,
        "visitor_count": drilldown_store.people_count(
            warehouse(), site["site_id"], "visitors", start, end, segment, **zone
        ),
        "revenue": float(revenue["revenue"].sum()) if len(revenue) else 0.0,
        "repeat": kpi_store.repeat_purchase_rate(*args, **zone),
        "funnel": kpi_store.funnel(*args, **zone),
        "traffic_chart": daily_chart(traffic, {"visitors": _("Visitors"), "sessions": _("Sessions")}, start, end),
        "revenue_chart": daily_chart(revenue, {"revenue": _("Revenue")}, start, end, "bars"),
        "aov_chart": daily_chart(revenue, {"average_order_value": _("Average order value")}, start, end),
        "new_chart": daily_chart(
            kpi_store.new_vs_returning(*args, **zone),
            {"new_visitors": _("New"), "returning_visitors": _("Returning")},
            start,
            end,
            "bars",
        ),
        "satisfaction_chart": satisfaction_chart(kpi_store.satisfaction(*args, months=months, **zone)),
        "recommended": recommended,
        "recommended_revenue": float(recommended["revenue"].sum()) if len(recommended) else 0.0,
        "recommended_chart": daily_chart(recommended, {"revenue": _("From recommendations")}, start, end, "bars"),
        "retention": retention_table(kpi_store.retention(*args, months=months, **zone)),
    }
    return render_template("insights/kpis.html", **context)


SEGMENT_SORTS = {"name": lambda r: r["segment"], "size": lambda r: int(r["size"])}


@bp.route("/s/<site_id>/segments")
def segments(site_id: str):
    site = current_site()
    rows = segment_store.segment_sizes(warehouse(), site["site_id"])
    custom = condition_store.custom_segments(warehouse(), site["site_id"])
    sizes = {r["segment"]: r["size"] for r in rows}
    order = sorting(SEGMENT_SORTS, "name", descending=False)
    rows = sort_rows(rows, order, SEGMENT_SORTS)
    return render_template("insights/segments.html", rows=rows, custom=custom, sizes=sizes, sorting=order)


@bp.route("/s/<site_id>/segments/<name>")
def segment(site_id: str, name: str):
    site = current_site()
    sizes = {r["segment"]: r for r in segment_store.segment_sizes(warehouse(), site["site_id"])}
    if name not in sizes:
        abort(404)
    definition = next(
        (s for s in condition_store.custom_segments(warehouse(), site["site_id"]) if s["name"] == name), None
    )
    page = paginate(int(sizes[name]["size"]), per_page=50)
    order = sorting(segment_store.MEMBER_SORTS, "value")
    members = segment_store.segment_members(
        warehouse(), site["site_id"], name, page.limit, page.offset, order.sort, order.descending
    )
    end = dt.datetime.now(dt.timezone.utc)
    trend = segment_store.segment_trend(warehouse(), site["site_id"], name, end, 30, site_display()["timezone"])
    chart = {
        "kind": "line",
        "x_label": _("Day"),
        "x": [_unix(r["date"]) for r in trend],
        "series": [{"label": _("Members"), "values": [int(r["size"]) for r in trend]}],
    }
    return render_template(
        "insights/segment.html",
        name=name,
        size=sizes[name],
        members=members.to_dict("records"),
        people=lookup(site["site_id"], members["person_id"].tolist()),
        value_kind=value_kind(name),
        value_header=value_header(name),
        page=page,
        sorting=order,
        chart=chart,
        definition=definition,
    )


@bp.route("/s/<site_id>/segments/<name>/export.csv")
def segment_export(site_id: str, name: str):
    site = current_site()
    if name not in {r["segment"] for r in segment_store.segment_sizes(warehouse(), site["site_id"])}:
        abort(404)
    members = segment_store.segment_members(warehouse(), site["site_id"], name)
    members = members.rename(columns={"entered_at": "member_since", "value": value_column(name)})
    hashed = request.args.get("hashed") == "1"
    frame = contact_frame(site["site_id"], members, hashed)
    return csv_download(to_csv(frame), f"segment-{name}-hashed" if hashed else f"segment-{name}")


AUDIENCE_SHOWN = 1000
AUDIENCE_SORTS = {"score": lambda r: r["score"], "last": lambda r: r["last_interaction"]}


@bp.route("/s/<site_id>/audience")
def audience(site_id: str):
    """The audience of a product given by id, or first the products whose names match (folded, so
    Arabic and Persian letters, digits and joiners typed any way match the stored name)."""
    site = current_site()
    product = request.args.get("product", "").strip()[:200]
    catalogue = display_store.product_names(warehouse(), site["site_id"]) if product else []
    named = [] if not product else product_matches(catalogue, product)
    if len(named) == 1:
        product = named[0]["product_id"]
    matches_shown = named if len(named) > 1 else []
    rows = []
    if product and not matches_shown:
        rows = site_audience(warehouse(), site["site_id"], product, AUDIENCE_SHOWN).to_dict("records")
    order = sorting(AUDIENCE_SORTS, "score")
    page = paginate(len(rows), per_page=50)
    rows = sort_rows(rows, order, AUDIENCE_SORTS)[page.offset : page.offset + page.limit]
    if product and not matches_shown and request.args.get("format") == "csv":
        hashed = request.args.get("hashed") == "1"
        frame = contact_frame(site["site_id"], site_audience(warehouse(), site["site_id"], product, 100_000), hashed)
        return csv_download(to_csv(frame), "audience-hashed" if hashed else "audience")
    people = lookup(site["site_id"], [r["person_id"] for r in rows])
    return render_template(
        "insights/audience.html",
        product=product,
        rows=rows,
        matches=matches_shown,
        people=people,
        page=page,
        sorting=order,
        names={p["product_id"]: p["name"] for p in catalogue},
    )


def product_matches(products: list[dict], query: str, limit: int = 50) -> list[dict]:
    """Products whose id is ``query`` (that one alone), else those whose name holds every word of it."""
    exact = [p for p in products if fold(p["product_id"]) == fold(query)]
    if exact:
        return exact[:1]
    return [p for p in products if matches(query, p["name"])][:limit]


def csv_download(text: str, stem: str) -> Response:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:80]
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'})
