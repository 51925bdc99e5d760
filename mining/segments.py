"""Segment rules: who is in which segment, as pure functions of person facts.

``facts`` is one row per person (see ``warehouse.queries.segments.person_facts``):
``person_id, first_seen, last_seen, active_days, product_views, cart_adds,
orders, revenue, deal_orders, first_order_at, last_order_at, last_cart_at,
open_cart_value``. Times are naive UTC; a time at the epoch means "never".
Every rule returns ``person_id, segment, value`` so memberships can be diffed
against the stored history the same way whatever the rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPOCH = pd.Timestamp("1970-01-01")
DAY = pd.Timedelta(days=1)

# Windows of the behaviour rules, in days (hours for the cart).
NEW_VISITOR_DAYS = 7
RETURNING_ACTIVE_DAYS = 30
ABANDONED_CART_HOURS = 1
ABANDONED_CART_DAYS = 30
WINDOW_SHOPPER_VIEWS = 3
DEAL_SHARE = 0.5

# The classic RFM map on (recency score, frequency score), first match wins.
RFM_CELLS = [
    ("champions", (5, 5), (4, 5)),
    ("loyal", (3, 5), (4, 5)),
    ("cannot_lose", (1, 2), (5, 5)),
    ("at_risk", (1, 2), (3, 4)),
    ("hibernating", (1, 2), (1, 2)),
    ("about_to_sleep", (3, 3), (1, 2)),
    ("need_attention", (3, 3), (3, 3)),
    ("potential_loyalists", (4, 5), (2, 3)),
    ("new_customers", (5, 5), (1, 1)),
    ("promising", (4, 4), (1, 1)),
]
RULE_NAMES = [name for name, _, _ in RFM_CELLS] + [
    "cart_abandoners",
    "window_shoppers",
    "deal_seekers",
    "repeat_buyers",
    "new_visitors",
    "returning_visitors",
]
# The cell of a buyer no named cell holds (``rfm_cell``).
OTHER_CELL = "other"
# Every segment the rules fill, as opposed to custom ones.
BUILT_IN = {*RULE_NAMES, OTHER_CELL}


def quintile(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Scores 1..5 by percentile rank; ties share a score, so equal people are never split."""
    if values.empty:
        return pd.Series([], dtype="uint8", index=values.index)
    ranks = (values if higher_is_better else -values).rank(method="max", pct=True)
    return np.ceil(ranks * 5).clip(1, 5).astype("uint8")


def rfm_table(facts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Recency, frequency and monetary quintiles of every buyer, with the named cell.

    Returns
    -------
    DataFrame
        ``person_id, recency_days, frequency, monetary, r, f, m, cell``; only
        people with at least one order.
    """
    buyers = facts[facts["orders"] > 0]
    out = pd.DataFrame(
        {
            "person_id": buyers["person_id"].values,
            "recency_days": ((as_of - buyers["last_order_at"]) / DAY).values,
            "frequency": buyers["orders"].astype("int64").values,
            "monetary": buyers["revenue"].astype("float64").values,
        }
    )
    out["r"] = quintile(out["recency_days"], higher_is_better=False)
    out["f"] = quintile(out["frequency"])
    out["m"] = quintile(out["monetary"])
    out["cell"] = [rfm_cell(r, f) for r, f in zip(out["r"], out["f"])]
    return out


def rfm_cell(r: int, f: int) -> str:
    for name, (r_lo, r_hi), (f_lo, f_hi) in RFM_CELLS:
        if r_lo <= r <= r_hi and f_lo <= f <= f_hi:
            return name
    return OTHER_CELL


def rfm_segments(facts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each buyer in its named RFM cell, valued at what they spent."""
    table = rfm_table(facts, as_of)
    return _members(table["person_id"], table["cell"], table["monetary"])


def cart_abandoners(facts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Added to cart since their last order, not in the last hour, within 30 days; valued at the open cart."""
    cart = facts["last_cart_at"]
    rule = (
        (facts["cart_adds"] > 0)
        & (cart > facts["last_order_at"])
        & (cart <= as_of - pd.Timedelta(hours=ABANDONED_CART_HOURS))
        & (cart >= as_of - ABANDONED_CART_DAYS * DAY)
        & (facts["open_cart_value"] > 0)
    )
    return _rule(facts, rule, "cart_abandoners", facts["open_cart_value"])


def window_shoppers(facts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Look a lot (three product views or more) but never add to cart nor buy."""
    rule = (facts["product_views"] >= WINDOW_SHOPPER_VIEWS) & (facts["cart_adds"] == 0) & (facts["orders"] == 0)
    return _rule(facts, rule, "window_shoppers", facts["product_views"])


def deal_seekers(facts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """At least half of their orders used a coupon or a discount."""
    orders = facts["orders"].astype("float64")
    rule = (orders > 0) & (facts["deal_orders"] >= DEAL_SHARE * orders)
    return _rule(facts, rule, "deal_seekers", facts["revenue"])


def repeat_buyers(facts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Two orders or more."""
    return _rule(facts, facts["orders"] >= 2, "repeat_buyers", facts["revenue"])


def new_visitors(facts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """First seen within the last seven days."""
    return _rule(facts, facts["first_seen"] >= as_of - NEW_VISITOR_DAYS * DAY, "new_visitors", facts["active_days"])


def returning_visitors(facts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Came back on another day, and were seen within the last 30 days."""
    rule = (facts["active_days"] >= 2) & (facts["last_seen"] >= as_of - RETURNING_ACTIVE_DAYS * DAY)
    return _rule(facts, rule, "returning_visitors", facts["active_days"])


BEHAVIOUR_RULES = [cart_abandoners, window_shoppers, deal_seekers, repeat_buyers, new_visitors, returning_visitors]


def time_bands(before: pd.Timestamp, as_of: pd.Timestamp) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """``(column, first, last)``: where one of a person's times must lie (both ends included) for a
    behaviour rule to judge them otherwise as of ``as_of`` than as of ``before`` (not later), every other
    fact the same.

    Each rule bound in time compares one time with the judging time less a
    window, so its answer turns only for a time between the two cuts. Besides
    the people whose facts changed and the buyers (the RFM cells rank every
    buyer against the others), only the people with a time in a band need
    judging again; a new time-bound rule needs its band here.
    """
    windows = [
        ("first_seen", NEW_VISITOR_DAYS * DAY),
        ("last_seen", RETURNING_ACTIVE_DAYS * DAY),
        ("last_cart_at", pd.Timedelta(hours=ABANDONED_CART_HOURS)),
        ("last_cart_at", ABANDONED_CART_DAYS * DAY),
    ]
    return [(column, before - window, as_of - window) for column, window in windows]


def behaviour_segments(facts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The behaviour rules' members: each person is judged on their own facts alone."""
    return pd.concat([rule(facts, as_of) for rule in BEHAVIOUR_RULES], ignore_index=True)


def all_segments(facts: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every built-in segment's members: RFM cells, then the behaviour rules.

    Only the RFM cells compare people (quintiles over every buyer): facts read
    in parts can be judged part by part for the behaviour rules, and the buyers
    of every part together for the cells.
    """
    return pd.concat([rfm_segments(facts, as_of), behaviour_segments(facts, as_of)], ignore_index=True)


def _rule(facts: pd.DataFrame, mask: pd.Series, name: str, value: pd.Series) -> pd.DataFrame:
    chosen = facts[mask]
    return _members(chosen["person_id"], pd.Series(name, index=chosen.index), value[mask])


def _members(person: pd.Series, segment: pd.Series, value: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": person.astype(str).values,
            "segment": segment.astype(str).values,
            "value": value.astype("float64").values,
        }
    )


def _pair_keys(left: pd.DataFrame, right: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One int64 per (segment, person) pair, equal across both frames exactly when the pair is.

    Millions of open stays are compared every run and on every day of a first
    run's backfill: integers compare in a fraction of the memory and time a
    merge on two string columns takes. The codes follow first appearance, not
    the ids' order, so no string is sorted here (``_in_order`` sorts what is written).
    """
    persons, person_names = pd.factorize(pd.concat([left["person_id"], right["person_id"]], ignore_index=True))
    segments, _ = pd.factorize(pd.concat([left["segment"], right["segment"]], ignore_index=True))
    keys = segments.astype(np.int64) * max(len(person_names), 1) + persons
    return keys[: len(left)], keys[len(left) :]


def _in_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows by segment, then person: the order stays are written in, whatever the run's codes."""
    if len(frame) < 2:
        return frame.reset_index(drop=True)
    persons = pd.factorize(frame["person_id"], sort=True)[0]
    segments = pd.factorize(frame["segment"], sort=True)[0]
    return frame.take(np.lexsort((persons, segments))).reset_index(drop=True)


def _rows_of(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each of ``wanted``, the row of ``keys`` (unique) holding it, or -1."""
    if not len(keys):
        return np.full(len(wanted), -1)
    order = np.argsort(keys, kind="stable")
    at = np.minimum(np.searchsorted(keys[order], wanted), len(keys) - 1)
    return np.where(keys[order][at] == wanted, order[at], -1)


def membership_changes(current: pd.DataFrame, computed: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Stays to write: opened for newcomers, closed for leavers, revalued where the value moved.

    Parameters
    ----------
    current : DataFrame
        Open stays: ``segment, person_id, entered_at, value``.
    computed : DataFrame
        Who is in now: ``segment, person_id, value``.
    now : Timestamp
        When entries and exits are dated.

    Returns
    -------
    DataFrame
        ``segment, person_id, entered_at, left_at, value, change`` where change
        is ``entered``, ``left`` or ``revalued``; ``left_at`` is the epoch for open stays.
    """
    return membership_step(current, computed, now)[0]


def membership_step(
    current: pd.DataFrame, computed: pd.DataFrame, now: pd.Timestamp
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``membership_changes``, and the open stays once they are written, from one match of the pairs.

    The stays open after are ``computed``'s pairs (unique), each since its
    open stay's entry if it had one, else ``now``, at the value stored: the
    new one where it was written, the old one where it was close enough. The
    backfill steps through 30 days this way, with a million stays a day at
    30M events, where matching the pairs again and sorting them cost as much
    as the step.
    """
    key = ["segment", "person_id"]
    old, new = _pair_keys(current, computed)
    was = _rows_of(old, new)  # each computed row's open stay, or -1
    stays = was >= 0
    new_value = computed["value"].to_numpy("float64")
    old_value = current["value"].to_numpy("float64")
    moved = stays.copy()
    moved[stays] = ~np.isclose(new_value[stays], old_value[was[stays]])
    gone = ~np.isin(old, new)
    old_entry = current["entered_at"].to_numpy("datetime64[s]")
    # Blocks in the order of ``change``, each in the order of its pairs.
    entered = _in_order(
        computed[~stays][key].assign(entered_at=now, left_at=EPOCH, value=new_value[~stays], change="entered")
    )
    left = _in_order(
        current[gone][key].assign(entered_at=old_entry[gone], left_at=now, value=old_value[gone], change="left")
    )
    revalued = _in_order(
        computed[moved][key].assign(
            entered_at=old_entry[was[moved]], left_at=EPOCH, value=new_value[moved], change="revalued"
        )
    )
    changes = pd.concat([entered, left, revalued], ignore_index=True)
    changes["entered_at"] = pd.to_datetime(changes["entered_at"]).astype("datetime64[s]")
    changes["left_at"] = pd.to_datetime(changes["left_at"]).astype("datetime64[s]")

    kept = stays & ~moved
    since = np.full(len(computed), pd.Timestamp(now).to_datetime64(), dtype="datetime64[s]")
    since[stays] = old_entry[was[stays]]
    value = new_value.copy()
    value[kept] = old_value[was[kept]]
    after = pd.DataFrame(
        {
            "segment": computed["segment"].to_numpy(),
            "person_id": computed["person_id"].to_numpy(),
            "entered_at": since,
            "value": value,
        }
    )
    return changes, after
