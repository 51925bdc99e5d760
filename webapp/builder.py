"""The segment builder: define, preview, edit and delete custom segments in the admin.

A custom segment is stored as the same list of conditions ``basirat segments
define --where`` takes (``warehouse.queries.conditions``), and the segments
job computes its members with the others. The form has one row per common
condition (a blank operator leaves it out); anything else the CLI accepts is
kept as JSON in the "other conditions" box, so a segment defined from the
command line can be edited here without losing a condition.

Only admins define segments (like every other change to a site); the count
preview answers the same form as JSON for the page's script, and as a
"Preview" button without it.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mining.membership import CUSTOM_NAME, define_custom
from mining.segments import RULE_NAMES
from warehouse.queries import conditions as store
from warehouse.queries import display as display_store

from .access import current_site, role_required, warehouse
from .insights import product_matches

bp = Blueprint("builder", __name__)

# (form key, label, condition as stored, form value -> stored value factor)
NUMBERS = [
    ("orders", _l("Orders"), {"field": "orders"}, 1),
    ("revenue", _l("Revenue"), {"field": "revenue"}, 1),
    ("days_since_last_seen", _l("Days since last seen"), {"field": "days_since_last_seen"}, 1),
    ("days_since_first_seen", _l("Days since first seen"), {"field": "days_since_first_seen"}, 1),
    ("product_views", _l("Product views"), {"field": "product_views"}, 1),
    ("cart_adds", _l("Products added to cart"), {"field": "cart_adds"}, 1),
    ("feedback_score", _l("Average feedback score"), {"field": "feedback_score"}, 1),
    ("predicted_value", _l("Predicted value, next 12 months"), {"field": "score", "name": "predicted_value"}, 1),
    ("churn_risk", _l("Churn risk (%)"), {"field": "score", "name": "churn_risk"}, 100),
    ("recency_score", _l("RFM recency score (1-5)"), {"field": "score", "name": "recency_score"}, 1),
    ("frequency_score", _l("RFM frequency score (1-5)"), {"field": "score", "name": "frequency_score"}, 1),
    ("monetary_score", _l("RFM monetary score (1-5)"), {"field": "score", "name": "monetary_score"}, 1),
]
PRODUCTS = [
    ("bought", _l("Bought the product")),
    ("viewed", _l("Viewed the product")),
    ("added", _l("Added the product to the cart")),
]
OPS = [">=", ">", "=", "!=", "<", "<="]
FACTORS = {key: factor for key, _label, _base, factor in NUMBERS}
LABELS = {key: label for key, label, _base, _factor in NUMBERS}
# Words under /segments/ that are pages, not segment names.
RESERVED = {"new"}


def _number(text: str):
    try:
        value = float(text.replace(",", "").strip())
    except ValueError:
        return None
    return value if value == value and abs(value) < 1e15 else None


def _days(text: str):
    text = text.strip()
    if not text:
        return None, None
    if text.isdigit() and 0 < int(text) <= 36500:
        return int(text), None
    return None, _("within days must be a whole number from 1 to 36500")


def _product_condition(action: str, label, form, site_id: str, errors: dict):
    typed = form.get(f"product_{action}", "").strip()[:200]
    if not typed:
        return None
    days, problem = _days(form.get(f"product_{action}_days", ""))
    if problem:
        errors[f"product_{action}"] = f"{label}: {problem}"
        return None
    found = product_matches(display_store.product_names(warehouse(), site_id), typed, limit=6)
    if len(found) != 1:
        if found:
            names = ", ".join(f"{p['name']} ({p['product_id']})" for p in found[:5])
            errors[f"product_{action}"] = _(
                "%(label)s: several products match; type one's id: %(names)s", label=label, names=names
            )
        else:
            errors[f"product_{action}"] = _("%(label)s: no product matches “%(typed)s”", label=label, typed=typed)
        return None
    condition = {"field": "product", "action": action, "product_id": found[0]["product_id"]}
    return {**condition, "days": days} if days else condition


def _number_conditions(form, errors: dict) -> list:
    conditions = []
    for key, label, base, factor in NUMBERS:
        op, text = form.get(f"op_{key}", ""), form.get(f"value_{key}", "").strip()
        if not op and not text:
            continue
        value = _number(text)
        if op not in OPS:
            errors[key] = _("%(label)s: choose a comparison", label=label)
        elif value is None:
            errors[key] = _("%(label)s: type a number", label=label)
        else:
            conditions.append({**base, "op": op, "value": value / factor})
    return conditions


def _other_conditions(form, errors: dict) -> list:
    other = form.get("other", "").strip()
    if not other:
        return []
    try:
        extra = json.loads(other)
    except ValueError as exc:
        errors["other"] = _("Other conditions are not valid JSON: %(reason)s", reason=str(exc))
        return []
    if not isinstance(extra, list):
        errors["other"] = _("Other conditions must be a JSON list of conditions")
        return []
    return extra


def parse_form(form, site_id: str) -> tuple[list, dict]:
    """The conditions a builder form asks for, and the problems per form field (none: it compiles)."""
    errors: dict = {}
    conditions = _number_conditions(form, errors)
    for action, label in PRODUCTS:
        condition = _product_condition(action, label, form, site_id, errors)
        if condition:
            conditions.append(condition)
    conditions.extend(_other_conditions(form, errors))
    if not conditions and not errors:
        errors["form"] = _("Choose at least one condition.")
    if not errors:
        try:
            store.compile_conditions(conditions)
        except store.ConditionError as exc:
            errors["form"] = str(exc)
    return conditions, errors


def form_values(conditions: list) -> dict:
    """A stored definition back as form values; what no row holds goes to "other conditions"."""
    values, other = {}, []
    for cond in conditions:
        key = _row_of(cond)
        if key is None or f"op_{key}" in values or f"product_{key}" in values:
            other.append(cond)
        elif key in FACTORS:
            values[f"op_{key}"] = cond["op"]
            values[f"value_{key}"] = f"{cond['value'] * FACTORS[key]:g}"
        else:
            values[f"product_{key}"] = cond["product_id"]
            values[f"product_{key}_days"] = str(cond.get("days", ""))
    values["other"] = json.dumps(other, ensure_ascii=False, indent=1) if other else ""
    return values


def _row_of(cond: dict) -> str | None:
    if not isinstance(cond, dict):
        return None
    if cond.get("field") == "product":
        has_count = "op" in cond or "value" in cond
        return None if has_count or cond.get("action") not in dict(PRODUCTS) else cond["action"]
    if cond.get("op") not in OPS or isinstance(cond.get("value"), bool):
        return None
    for key, _label, base, _factor in NUMBERS:
        if all(cond.get(k) == v for k, v in base.items()) and set(cond) == {*base, "op", "value"}:
            return key
    return None


def describe(conditions: list) -> list[str]:
    """Each condition in words, for the segments list and the segment's page."""
    words = []
    for cond in conditions:
        key = _row_of(cond)
        if key in dict(PRODUCTS):
            text = f"{dict(PRODUCTS)[key]}: {cond['product_id']}"
            words.append(text + (" " + _("within %(days)s days", days=cond["days"]) if cond.get("days") else ""))
        elif key:
            words.append(f"{LABELS[key]} {cond['op']} {cond['value'] * FACTORS[key]:g}")
        else:
            words.append(json.dumps(cond, ensure_ascii=False))
    return words


@bp.app_template_filter("conditions_in_words")
def _conditions_filter(conditions: list) -> list[str]:
    return describe(conditions)


def custom_definitions(site_id: str) -> dict[str, dict]:
    return {s["name"]: s for s in store.custom_segments(warehouse(), site_id)}


def _page(site_id: str, name: str, values: dict, errors: dict, count=None, editing: bool = False):
    return render_template(
        "insights/builder.html",
        name=name,
        values=values,
        errors=errors,
        count=count,
        editing=editing,
        numbers=NUMBERS,
        products=PRODUCTS,
        ops=OPS,
    ), (400 if errors and request.method == "POST" else 200)


def _name_problem(name: str, site_id: str) -> str | None:
    if not CUSTOM_NAME.match(name) or name in RULE_NAMES or name in RESERVED:
        return _("A name is 1-48 lowercase letters, digits or _, starting with a letter, and not a built-in segment's.")
    if name in custom_definitions(site_id):
        return _("A custom segment named %(name)s exists already: edit it instead.", name=name)
    return None


def _submit(site_id: str, name: str, editing: bool):
    values = request.form.to_dict()
    conditions, errors = parse_form(request.form, site_id)
    if not editing:
        problem = _name_problem(name, site_id)
        if problem:
            errors["name"] = problem
    if errors or request.form.get("action") != "save":
        count = None if errors else store.matching_count(warehouse(), site_id, conditions)
        return _page(site_id, name, values, errors, count, editing)
    count = define_custom(warehouse(), site_id, name, conditions)
    flash(
        _(
            "Segment %(name)s saved: %(count)s people match now; its members follow on the next segments run.",
            name=name,
            count=count,
        ),
        "success",
    )
    return redirect(url_for("insights.segments", site_id=site_id))


@bp.route("/s/<site_id>/segments/new", methods=["GET", "POST"])
@role_required("admin")
def new(site_id: str):
    site = current_site()
    name = request.form.get("name", "").strip().lower()[:48]
    if request.method == "POST":
        return _submit(site["site_id"], name, editing=False)
    return _page(site["site_id"], "", {}, {})


@bp.route("/s/<site_id>/segments/<name>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit(site_id: str, name: str):
    site = current_site()
    found = custom_definitions(site["site_id"]).get(name)
    if found is None:
        abort(404)
    if request.method == "POST":
        return _submit(site["site_id"], name, editing=True)
    return _page(site["site_id"], name, form_values(found["conditions"]), {}, editing=True)


@bp.route("/s/<site_id>/segments/<name>/delete", methods=["POST"])
@role_required("admin")
def delete(site_id: str, name: str):
    site = current_site()
    found = custom_definitions(site["site_id"]).get(name)
    if found is None:
        abort(404)
    store.define_segment(warehouse(), site["site_id"], name, found["conditions"], deleted=1)
    flash(_("Segment %(name)s deleted: its members leave on the next segments run.", name=name), "success")
    return redirect(url_for("insights.segments", site_id=site["site_id"]))


@bp.route("/s/<site_id>/segments/count.json")
@role_required("admin")
def count(site_id: str):
    """How many people the builder's conditions match now; 400 with the problems per field."""
    site = current_site()
    conditions, errors = parse_form(request.args, site["site_id"])
    if errors:
        return jsonify({"errors": errors}), 400
    return jsonify({"count": store.matching_count(warehouse(), site["site_id"], conditions)})
