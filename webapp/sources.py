"""Customer sources and the matching review queue.

The sources page lists what each source (a till, a call centre, a store
export) brought in; the review queue shows pairs of records the matcher was
not sure about, side by side, and takes an operator's verdict, which
``mining.matching.apply_verdict`` applies at once and every later run keeps.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from warehouse.queries import matching as store

from .access import current_site, current_user, role_required, warehouse
from .pages import NavItem, paginate, sort_rows, sorting

bp = Blueprint("sources", __name__)
NAV = [NavItem(_l("Sources"), "sources.index", order=26)]
FIELDS = ("first_name", "last_name", "email", "phone", "address", "city", "postcode", "country", "birth_date")
LABELS = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "address": _l("Address"),
    "city": _l("City"),
    "postcode": _l("Postcode"),
    "country": _l("Country"),
    "birth_date": _l("Birth date"),
}


SOURCE_SORTS = {
    "source": lambda s: s["source"],
    "records": lambda s: s["records"],
    "flagged": lambda s: s["flagged"],
    "imported": lambda s: s["last_import"],
}
QUEUE_LIMIT = 1000
QUEUE_PAGE = 20


@bp.route("/s/<site_id>/sources")
def index(site_id: str):
    site = current_site()
    order = sorting(SOURCE_SORTS, "records")
    sources = sort_rows(store.sources(warehouse(), site["site_id"]), order, SOURCE_SORTS)
    waiting = len(store.review_queue(warehouse(), site["site_id"], limit=QUEUE_LIMIT))
    page = paginate(len(sources), per_page=50)
    shown = sources[page.offset : page.offset + page.limit]
    return render_template(
        "sources/index.html", sources=sources, shown=shown, waiting=waiting, page=page, sorting=order
    )


def _side_by_side(site_id: str, pair: dict) -> dict:
    """The two records of a pair with each field's standard values and how they compare."""
    found = {r["uid"]: r for r in store.records_of(warehouse(), site_id, [pair["a"], pair["b"]])}
    left, right = found.get(pair["a"]), found.get(pair["b"])
    rows = []
    for field in FIELDS:
        one, two = (r.get(field, "") if r else "" for r in (left, right))
        std_one, std_two = (r.get("std_" + field, "") if r else "" for r in (left, right))
        if field in pair["agree"]:
            state = "agree"
        elif field in pair["close"]:
            state = "close"
        elif field in pair["differ"]:
            state = "differ"
        else:
            state = "agree" if std_one and std_one == std_two else ("" if not (std_one and std_two) else "differ")
        rows.append({"label": str(LABELS[field]), "left": one, "right": two, "state": state})
    return {**pair, "left": left, "right": right, "rows": rows}


@bp.route("/s/<site_id>/sources/review")
def review(site_id: str):
    site = current_site()
    queue = store.review_queue(warehouse(), site["site_id"], limit=QUEUE_LIMIT)
    order = sorting(("weight",), "weight")
    if not order.descending:
        queue = sort_rows(queue, order, {"weight": lambda p: p["weight"]})
    page = paginate(len(queue), per_page=QUEUE_PAGE)
    pairs = [_side_by_side(site["site_id"], pair) for pair in queue[page.offset : page.offset + page.limit]]
    return render_template("sources/review.html", pairs=pairs, page=page, sorting=order)


@bp.route("/s/<site_id>/sources/review", methods=["POST"])
@role_required("admin")
def decide(site_id: str):
    from mining.matching import VERDICTS, apply_verdict

    site = current_site()
    a, b, verdict = (request.form.get(k, "")[:512] for k in ("a", "b", "verdict"))
    if verdict not in VERDICTS:
        abort(400)
    user = current_user() or {}
    try:
        apply_verdict(warehouse(), site["site_id"], a, b, verdict, str(user.get("email", "admin")), current_app.config)
    except LookupError:
        abort(404)
    said = {
        "accept": _("Linked: one person."),
        "reject": _("Kept apart."),
        "unsure": _("Left in the queue, behind the rest."),
    }
    flash(said[verdict], "success")
    return redirect(url_for("sources.review", site_id=site["site_id"]))
