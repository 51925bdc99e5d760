"""How well the CLV model fits CDNOW, where published results exist.

CDNOW is the data set of the BG/NBD paper (Fader, Hardie and Lee 2005):
every purchase of the customers who first bought in Q1 1997, to June 1998.
The model is fitted on purchases to 1997-09-30 in weeks and asked for each
customer's repeat purchases in the 39 weeks after; the answer is compared
with what they did, and with a naive baseline (each customer's own past rate).
``run`` is what ``basirat evaluate --clv`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import clv

CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")
WEEK = 7.0
# The paper's estimates on its 1/10 sample (2,357 customers); the full file has ten times the customers.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
FILE = "cdnow/CDNOW_master.txt"


def read_cdnow(path: Path) -> pd.DataFrame:
    """``customer, when, value`` from the whitespace-separated master file (a header line is skipped)."""
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["customer", "date", "cds", "value"], dtype=str)
    raw = raw[raw["date"].str.isdigit()]
    return pd.DataFrame(
        {
            "customer": raw["customer"].values,
            "when": pd.to_datetime(raw["date"], format="%Y%m%d").values,
            "value": raw["value"].astype("float64").values,
        }
    )


def holdout_purchases(transactions: pd.DataFrame, customers: pd.Index) -> pd.Series:
    """Purchase days of each customer after calibration, to the end of the holdout."""
    later = transactions[(transactions["when"] > CALIBRATION_END) & (transactions["when"] <= HOLDOUT_END)]
    days = later.assign(day=later["when"].dt.floor("D")).groupby("customer")["day"].nunique()
    return days.reindex(customers).fillna(0).astype("float64")


def by_frequency(summary: pd.DataFrame, predicted, actual) -> list[dict]:
    """Mean predicted and actual holdout purchases by calibration repeat count (0..6, 7+), as in the paper."""
    group = summary["frequency"].clip(upper=7)
    frame = pd.DataFrame({"group": group, "predicted": predicted, "actual": actual})
    table = frame.groupby("group").agg(
        customers=("actual", "size"), predicted=("predicted", "mean"), actual=("actual", "mean")
    )
    return [
        {"repeats": f"{int(g)}+" if g == 7 else str(int(g)), **{k: round(float(v), 3) for k, v in row.items()}}
        for g, row in table.iterrows()
    ]


def run(path: Path, progress: Callable[[str], None] = print) -> dict:
    """Fit BG/NBD and Gamma-Gamma on CDNOW's calibration period and score the holdout."""
    progress(f"clv: reading {path}")
    transactions = read_cdnow(path)
    summary = clv.rfm_summary(transactions, CALIBRATION_END, WEEK)
    progress(f"clv: fitting BG/NBD on {len(summary)} customers (weeks, calibration to {CALIBRATION_END.date()})")
    bg = clv.fit_bgnbd(summary)
    gg = clv.fit_gamma_gamma(summary)
    horizon = (HOLDOUT_END - CALIBRATION_END).days / WEEK
    predicted = clv.expected_purchases(bg, horizon, summary["frequency"], summary["recency"], summary["T"])
    actual = holdout_purchases(transactions, summary.index).to_numpy()
    baseline = summary["frequency"].to_numpy() / summary["T"].to_numpy() * horizon
    mae = float(np.abs(predicted - actual).mean())
    baseline_mae = float(np.abs(baseline - actual).mean())
    params = {k: round(getattr(bg, k), 4) for k in PUBLISHED}
    report = {
        "customers": int(len(summary)),
        "bgnbd": params,
        "bgnbd_published": PUBLISHED,
        "gamma_gamma": {k: round(getattr(gg, k), 4) for k in PUBLISHED_GAMMA_GAMMA},
        "gamma_gamma_published": PUBLISHED_GAMMA_GAMMA,
        "holdout_weeks": round(horizon, 2),
        "holdout_predicted_total": round(float(predicted.sum()), 1),
        "holdout_actual_total": round(float(actual.sum()), 1),
        "mae": round(mae, 4),
        "baseline_mae": round(baseline_mae, 4),
        "mae_vs_baseline": round(mae / baseline_mae, 3),
        "by_frequency": by_frequency(summary, predicted, actual),
    }
    progress(
        f"clv: r={params['r']} alpha={params['alpha']} a={params['a']} b={params['b']} "
        f"(published {PUBLISHED}); holdout predicted {report['holdout_predicted_total']} vs actual "
        f"{report['holdout_actual_total']} repeat purchases; MAE {report['mae']} (baseline {report['baseline_mae']})"
    )
    return report
