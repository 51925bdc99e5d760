"""Custom segments: conditions from a fixed allow-list, compiled to bound SQL.

A definition is a list of conditions that must all hold, for example::

    [{"field": "orders", "op": ">=", "value": 2},
     {"field": "event_count", "event": "Coupon Applied", "op": ">=", "value": 1, "days": 30},
     {"field": "property", "event": "Order Completed", "name": "coupon", "op": "=", "value": "SPRING"},
     {"field": "trait", "name": "plan", "op": "=", "value": "gold"},
     {"field": "score", "name": "churn_risk", "op": ">", "value": 0.5},
     {"field": "product", "action": "bought", "product_id": "mug", "days": 90}]

A ``product`` condition holds when the person viewed, added to the cart or
bought the product (within ``days`` when given) at least once, or ``op`` and
``value`` times when given.

Every SQL fragment comes from the tables below; user input only ever travels
as a bound parameter (``{c0:Float64}``, ``{e0:String}``, ...).
"""

from __future__ import annotations

import json
import time

import pandas as pd

from warehouse.engine.connection import Warehouse

from .person_map import CHANNEL_ID_COLUMN, resolve
from .scores import NEWEST as NEWEST_SCORES

ORDER_KEY = "if(order_id != '', order_id, message_id)"
FACTS = {
    "orders": f"uniqExactIf({ORDER_KEY}, event = 'Order Completed')",
    "revenue": "sumIf(revenue, event = 'Order Completed')",
    "product_views": "countIf(event IN ('Product Viewed', 'Product Clicked'))",
    "cart_adds": "countIf(event = 'Product Added')",
    "events": "count()",
    "days_since_last_seen": "intDiv(toInt64({as_of:UInt32}) - toInt64(toUInt32(max(timestamp))), 86400)",
    "days_since_first_seen": "intDiv(toInt64({as_of:UInt32}) - toInt64(toUInt32(min(timestamp))), 86400)",
    "feedback_score": "avgIf(score, event = 'Feedback Submitted' AND score IS NOT NULL)",
}
SCORES = (
    "historic_value",
    "predicted_value",
    "predicted_purchases",
    "p_alive",
    "churn_risk",
    "satisfaction",
    "recency_score",
    "frequency_score",
    "monetary_score",
)
PRODUCT_ACTIONS = {
    "viewed": "event IN ('Product Viewed', 'Product Clicked') AND product_id = {p%d:String}",
    "added": "event = 'Product Added' AND product_id = {p%d:String}",
    "bought": "event = 'Order Completed' AND (has(item_ids, {p%d:String}) OR product_id = {p%d:String})",
}
NUMBER_OPS = {"=": "=", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
TEXT_OPS = {"=": "=", "!=": "!="}
MAX_CONDITIONS = 20


# Conditions may aggregate any of these columns; each event is resolved to its
# person before aggregating (custom segments are few and run in the job only).
_COLUMNS = [
    "timestamp",
    "event",
    "order_id",
    "message_id",
    "revenue",
    "score",
    "properties",
    "traits",
    "product_id",
    "item_ids",
]
_EVENTS_BY_PERSON = resolve(
    f"SELECT anonymous_id, user_id, {CHANNEL_ID_COLUMN}, {', '.join(_COLUMNS)} FROM events "
    "WHERE site_id = {site_id:String} AND is_bot = 0",
    _COLUMNS,
)


class ConditionError(ValueError):
    """A definition that cannot be compiled; the message says which condition and why."""


def _number(i: int, cond: dict) -> float:
    value = cond.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConditionError(f"condition {i + 1}: value must be a number")
    return float(value)


def _op(i: int, cond: dict, allowed: dict) -> str:
    op = cond.get("op")
    if op not in allowed and op != "contains":
        raise ConditionError(f"condition {i + 1}: op must be one of {', '.join(allowed)}")
    return op


def _text_test(i: int, cond: dict, column: str, params: dict) -> str:
    """``column <op> value`` for a text value, or a numeric comparison of the extracted number."""
    value = cond.get("value")
    params[f"v{i}"] = value
    if isinstance(value, str):
        op = _op(i, cond, TEXT_OPS)
        if op == "contains":
            return f"position(visitParamExtractString({column}, {{n{i}:String}}), {{v{i}:String}}) > 0"
        return f"visitParamExtractString({column}, {{n{i}:String}}) {TEXT_OPS[op]} {{v{i}:String}}"
    params[f"v{i}"] = _number(i, cond)
    op = _op(i, cond, NUMBER_OPS)
    if op == "contains":
        raise ConditionError(f"condition {i + 1}: contains needs a text value")
    return f"visitParamExtractFloat({column}, {{n{i}:String}}) {NUMBER_OPS[op]} {{v{i}:Float64}}"


def _name(i: int, cond: dict, key: str = "name") -> str:
    name = cond.get(key)
    if not isinstance(name, str) or not 0 < len(name) <= 200:
        raise ConditionError(f"condition {i + 1}: {key} must be a non-empty text")
    return name


def _days(i: int, cond: dict, params: dict) -> str:
    """``AND`` the event is within ``days`` of the as-of time, when the condition gives days."""
    days = cond.get("days", 36500)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= 36500:
        raise ConditionError(f"condition {i + 1}: days must be a whole number from 1 to 36500")
    params[f"d{i}"] = days
    return f"toUInt32(timestamp) >= {{as_of:UInt32}} - {{d{i}:UInt32}} * 86400"


def _product(i: int, cond: dict, params: dict) -> tuple[str, str]:
    action = cond.get("action")
    if action not in PRODUCT_ACTIONS:
        raise ConditionError(f"condition {i + 1}: action must be one of {', '.join(PRODUCT_ACTIONS)}")
    params[f"p{i}"] = _name(i, cond, "product_id")
    test = PRODUCT_ACTIONS[action].replace("%d", str(i))
    if "op" not in cond and "value" not in cond:
        return f"countIf({test} AND {_days(i, cond, params)})", f"c{i} >= 1"
    params[f"v{i}"] = _number(i, cond)
    op = NUMBER_OPS[_op(i, cond, NUMBER_OPS)]
    return f"countIf({test} AND {_days(i, cond, params)})", f"c{i} {op} {{v{i}:Float64}}"


def _compile_one(i: int, cond: dict, params: dict) -> tuple[str | None, str]:
    """(aggregate over the person's events or None, test in the outer WHERE)."""
    field = cond.get("field")
    if field in FACTS:
        params[f"v{i}"] = _number(i, cond)
        op = _op(i, cond, NUMBER_OPS)
        return FACTS[field], f"c{i} {NUMBER_OPS[op]} {{v{i}:Float64}}"
    if field == "score":
        if cond.get("name") not in SCORES:
            raise ConditionError(f"condition {i + 1}: score name must be one of {', '.join(SCORES)}")
        params[f"v{i}"] = _number(i, cond)
        return None, f"{cond['name']} {NUMBER_OPS[_op(i, cond, NUMBER_OPS)]} {{v{i}:Float64}}"
    if field == "event_count":
        params[f"e{i}"] = _name(i, cond, "event")
        window = _days(i, cond, params)
        params[f"v{i}"] = _number(i, cond)
        agg = f"countIf(event = {{e{i}:String}} AND {window})"
        return agg, f"c{i} {NUMBER_OPS[_op(i, cond, NUMBER_OPS)]} {{v{i}:Float64}}"
    if field == "property":
        params[f"n{i}"] = _name(i, cond)
        event = "1"
        if cond.get("event") is not None:
            params[f"e{i}"] = _name(i, cond, "event")
            event = f"event = {{e{i}:String}}"
        return f"countIf({event} AND {_text_test(i, cond, 'properties', params)})", f"c{i} > 0"
    if field == "trait":
        params[f"n{i}"] = _name(i, cond)
        test = _text_test(i, cond, "traits", params)
        return f"argMaxIf({test}, timestamp, visitParamHas(traits, {{n{i}:String}}))", f"c{i} = 1"
    if field == "product":
        return _product(i, cond, params)
    allowed = ", ".join([*FACTS, "score", "event_count", "property", "trait", "product"])
    raise ConditionError(f"condition {i + 1}: unknown field {field!r}; use one of {allowed}")


def compile_conditions(conditions: list) -> tuple[str, dict]:
    """SQL selecting ``person_id`` of people meeting every condition, and its parameters (less site and as_of)."""
    if not isinstance(conditions, list) or not conditions or not all(isinstance(c, dict) for c in conditions):
        raise ConditionError("a segment needs a list of conditions (objects with field, op, value)")
    if len(conditions) > MAX_CONDITIONS:
        raise ConditionError(f"at most {MAX_CONDITIONS} conditions")
    params: dict = {}
    aggregates, tests = ["count() AS events_seen"], ["person_id != ''"]
    for i, cond in enumerate(conditions):
        aggregate, test = _compile_one(i, cond, params)
        if aggregate is not None:
            aggregates.append(f"{aggregate} AS c{i}")
        tests.append(test)
    inner = f"SELECT person_id, {', '.join(aggregates)} FROM ({_EVENTS_BY_PERSON}) GROUP BY person_id"
    if any(c.get("field") == "score" for c in conditions):
        scores = f"SELECT person_id, {', '.join(SCORES)} FROM person_scores WHERE {NEWEST_SCORES}"
        inner = f"SELECT * FROM ({inner}) AS facts ANY LEFT JOIN ({scores}) AS scores USING person_id"
    return f"SELECT person_id FROM ({inner}) WHERE {' AND '.join(tests)} ORDER BY person_id", params


def _as_of(warehouse: Warehouse, site_id: str) -> int:
    as_of = warehouse.scalar(
        "SELECT toUInt32(max(timestamp)) FROM events WHERE site_id = {site_id:String}", {"site_id": site_id}
    )
    return int(as_of or 0)


def matching_people(warehouse: Warehouse, site_id: str, conditions: list) -> list[str]:
    """Who meets the conditions now, judged as of the site's latest event."""
    sql, params = compile_conditions(conditions)
    rows = warehouse.query(sql, {**params, "site_id": site_id, "as_of": _as_of(warehouse, site_id)})
    return [r["person_id"] for r in rows]


def matching_count(warehouse: Warehouse, site_id: str, conditions: list) -> int:
    """How many people meet the conditions now: the builder's preview, without sending the ids."""
    sql, params = compile_conditions(conditions)
    count = warehouse.scalar(
        f"SELECT count() FROM ({sql})", {**params, "site_id": site_id, "as_of": _as_of(warehouse, site_id)}
    )
    return int(count or 0)


def define_segment(warehouse: Warehouse, site_id: str, name: str, conditions: list, deleted: int = 0) -> None:
    """A new version of a definition; a deletion keeps the last conditions as they are, compiling or not."""
    if not deleted:
        compile_conditions(conditions)
    row = {
        "site_id": site_id,
        "name": name,
        "conditions": json.dumps(conditions),
        "created_at": pd.Timestamp.now("UTC").floor("s").tz_localize(None),
        "deleted": deleted,
        "version": time.time_ns(),
    }
    frame = pd.DataFrame([row]).astype({"created_at": "datetime64[s]", "deleted": "uint8", "version": "uint64"})
    warehouse.insert("custom_segments", frame)


def custom_segments(warehouse: Warehouse, site_id: str) -> list[dict]:
    rows = warehouse.query(
        """
        SELECT name, argMax(conditions, version) AS conditions, argMax(deleted, version) AS deleted
        FROM custom_segments WHERE site_id = {site_id:String} GROUP BY name ORDER BY name
        """,
        {"site_id": site_id},
    )
    return [{"name": r["name"], "conditions": json.loads(r["conditions"])} for r in rows if not r["deleted"]]
