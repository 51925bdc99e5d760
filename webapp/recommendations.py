"""Recommendations: click-through and attributed revenue per strategy and slot,
the models behind them, and the latest offline evaluation."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from recommender.experiments import ARMS, compare_arms
from warehouse.queries import rec_experiments, rec_offline
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


def _evaluation(rows: list[dict]) -> dict | None:
    """One offline run grouped by protocol, with its date and the size of its data."""
    if not rows:
        return None
    first = rows[0]
    protocols = {}
    for row in rows:
        protocols.setdefault(row["protocol"], []).append(row)
    return {
        "dataset": first["dataset"],
        "evaluated_at": first["evaluated_at"],
        "train_sessions": first["train_sessions"],
        "test_sessions": first["test_sessions"],
        "protocols": protocols,
    }


def _experiment(site_id: str) -> dict | None:
    """The site's A/B test (running or the last one) with per-arm figures against its control."""
    found = rec_experiments.experiment(warehouse(), site_id)
    if not found:
        return None
    arms = compare_arms(rec_experiments.arm_results(warehouse(), site_id, found["name"]), found["arms"][0])
    order = {arm: n for n, arm in enumerate(found["arms"])}
    arms.sort(key=lambda a: order.get(a["arm"], len(order)))
    return {**found, "control": found["arms"][0], "results": arms}


@bp.route("/s/<site_id>/recommendations")
def index(site_id: str):
    site = current_site()
    rows = store.recommendation_performance(warehouse(), site["site_id"], DAYS, WINDOW_DAYS)
    return render_template(
        "recommendations/index.html",
        rows=rows,
        totals=_totals(rows),
        models=store.model_status(warehouse(), site["site_id"]),
        own=_evaluation(rec_offline.latest_results(warehouse(), site["site_id"])),
        reference=_evaluation(rec_offline.latest_results(warehouse(), "")),
        site_id=site["site_id"],
        experiment=_experiment(site["site_id"]),
        arm_help=ARMS,
        days=DAYS,
        window_days=WINDOW_DAYS,
    )
