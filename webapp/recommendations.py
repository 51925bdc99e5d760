"""Recommendations: click-through and attributed revenue per strategy and slot,
the models behind them, and the latest offline evaluation."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from recommender.experiments import ARMS, check_arms, check_name, compare_arms
from warehouse.queries import rec_experiments, rec_offline
from warehouse.queries import recommendations as store

from .access import current_site, role_required, warehouse
from .pages import NavItem

bp = Blueprint("recommendations", __name__)
NAV = [NavItem(_l("Recommendations"), "recommendations.index", order=40)]
DAYS = 30
# What each arm of ``recommender.experiments.ARMS`` serves, for the A/B form.
ARM_HELP = {
    "served": _l("the shipped ranking with the site's settings"),
    "show_seen": _l("products viewed in the visit shown again in every context"),
    "hide_seen": _l("products viewed in the visit never shown again"),
    "stan": _l("STAN alone, without V-SKNN and sequential rules"),
    "measured_returns": _l("seen products returned to as far back as this site's visitors go"),
    "popular": _l("what is popular in context, the same for everyone (a control)"),
}
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
        arm_help={arm: ARM_HELP.get(arm, text) for arm, text in ARMS.items()},
        days=DAYS,
        window_days=WINDOW_DAYS,
    )


@bp.route("/s/<site_id>/recommendations/experiment", methods=["POST"])
@role_required("admin")
def start_experiment(site_id: str):
    """Split the site's visitors between the control and the arms ticked (replacing any running test)."""
    site = current_site()
    control = request.form.get("control", "")
    arms = [control] + [a for a in request.form.getlist("arms") if a != control]
    try:
        arms = check_arms(arms)
        name = check_name(request.form.get("name", ""), arms)
    except ValueError:
        flash(
            _("Choose a control and at least one other arm; a name may hold letters, digits, '.', '-' and '_'."),
            "error",
        )
        return redirect(url_for("recommendations.index", site_id=site["site_id"], _anchor="ab-test"))
    rec_experiments.set_experiment(warehouse(), site["site_id"], name, arms, active=True)
    flash(_("A/B test %(name)s started: endpoints split visitors within seconds.", name=name), "success")
    return redirect(url_for("recommendations.index", site_id=site["site_id"], _anchor="ab-test"))


@bp.route("/s/<site_id>/recommendations/experiment/stop", methods=["POST"])
@role_required("admin")
def stop_experiment(site_id: str):
    """Serve everyone the usual way again; the results stay on the page."""
    site = current_site()
    running = rec_experiments.experiment(warehouse(), site["site_id"])
    if not running or not int(running["active"]):
        flash(_("No A/B test is running."), "error")
    else:
        rec_experiments.set_experiment(warehouse(), site["site_id"], running["name"], list(running["arms"]), False)
        flash(_("A/B test %(name)s stopped; its results stay below.", name=running["name"]), "success")
    return redirect(url_for("recommendations.index", site_id=site["site_id"], _anchor="ab-test"))
