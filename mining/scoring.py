"""Scores per person: RFM quintiles, predicted value, churn risk, satisfaction.

Pure: frames in, one frame out. The CLV model needs enough history to say
anything; below ``MIN_BUYERS`` buyers or ``MIN_REPEATERS`` repeat buyers the
predictions stay empty (null) rather than inventing numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import clv
from .segments import rfm_table

MIN_BUYERS = 20
MIN_REPEATERS = 5
HORIZON_DAYS = 365.0
CHURN_HORIZON_DAYS = 90
COLUMNS = [
    "person_id",
    "orders",
    "historic_value",
    "predicted_purchases",
    "predicted_value",
    "p_alive",
    "churn_risk",
    "satisfaction",
    "feedback_count",
    "recency_score",
    "frequency_score",
    "monetary_score",
]


def predictions(
    order_days: pd.DataFrame, as_of: pd.Timestamp, churn_horizon_days: float = CHURN_HORIZON_DAYS
) -> pd.DataFrame:
    """MBG/NBD + Gamma-Gamma per buyer (days as the unit), or empty when data is thin.

    Purchases and value are over the next year; churn risk is the chance of no
    order in the next ``churn_horizon_days``.
    """
    empty = pd.DataFrame(columns=["predicted_purchases", "predicted_value", "p_alive", "churn_risk"], dtype="float64")
    if order_days.empty:
        return empty
    summary = clv.rfm_summary(order_days, as_of, unit_days=1.0)
    if len(summary) < MIN_BUYERS or (summary["frequency"] > 0).sum() < MIN_REPEATERS:
        return empty
    with np.errstate(over="ignore", invalid="ignore"):
        out, _, _ = clv.customer_value(summary, HORIZON_DAYS, float(churn_horizon_days))
    return out.replace([np.inf, -np.inf], np.nan)


def person_scores(
    facts: pd.DataFrame,
    order_days: pd.DataFrame,
    feedback: pd.DataFrame,
    as_of: pd.Timestamp,
    churn_horizon_days: float = CHURN_HORIZON_DAYS,
) -> pd.DataFrame:
    """One row per person who ordered or gave feedback, with every score (nulls where unknown)."""
    buyers = facts[facts["orders"] > 0].set_index("person_id")
    rfm = rfm_table(facts, as_of).set_index("person_id")
    people = buyers.index.union(pd.Index(feedback["person_id"]))
    out = pd.DataFrame(index=people)
    out["orders"] = buyers["orders"].reindex(people).fillna(0).astype("uint32")
    out["historic_value"] = buyers["revenue"].reindex(people).fillna(0.0).astype("float64")
    predicted = predictions(order_days, as_of, churn_horizon_days)
    for column in ("predicted_purchases", "predicted_value", "p_alive", "churn_risk"):
        out[column] = predicted[column].reindex(people).astype("float64") if column in predicted else np.nan
    fb = feedback.set_index("person_id")
    out["satisfaction"] = fb["satisfaction"].reindex(people).astype("float64")
    out["feedback_count"] = fb["feedback_count"].reindex(people).fillna(0).astype("uint32")
    for column, source in (("recency_score", "r"), ("frequency_score", "f"), ("monetary_score", "m")):
        out[column] = rfm[source].reindex(people).fillna(0).astype("uint8")
    return out.rename_axis("person_id").reset_index()[COLUMNS]
