"""Recommendations: click-through and attributed revenue per strategy and slot,
the models behind them, and the latest offline evaluation."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from warehouse.queries import recommendations as store

from .access import current_site, warehouse
from .pages import NavItem

bp = Blueprint("recommendations", __name__)
NAV = [NavItem(_l("Recommendations"), "recommendations.index", order=40)]
DAYS = 30
WINDOW_DAYS = 7


def _totals(rows: list[dict]) -> dict:
    impressions = sum(int(r["impressions"]) for r in rows)
    clicks = sum(int(r["clicks"]) for r in rows)
    return {
        "served": sum(int(r["served"]) for r in rows),
        "impressions": impressions,
        "clicks": clicks,
        "ctr": clicks / impressions if impressions else 0.0,
        "revenue": sum(float(r["revenue"]) for r in rows),
    }


@bp.route("/s/<site_id>/recommendations")
def index(site_id: str):
    site = current_site()
    rows = store.recommendation_performance(warehouse(), site["site_id"], DAYS, WINDOW_DAYS)
    return render_template(
        "recommendations/index.html",
        rows=rows,
        totals=_totals(rows),
        models=store.model_status(warehouse(), site["site_id"]),
        evaluation=store.latest_evaluation(warehouse()),
        days=DAYS,
        window_days=WINDOW_DAYS,
    )
