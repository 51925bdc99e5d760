"""How well the CLV model fits CDNOW, where published results exist.

CDNOW is the data set of the BG/NBD paper (Fader, Hardie and Lee 2005):
every purchase of the customers who first bought in Q1 1997, to June 1998.
The model is fitted on purchases to 1997-09-30 in weeks and asked for each
customer's repeat purchases in the 39 weeks after; the answer is compared
with what they did, and with a naive baseline (each customer's own past rate).
The churn risk the scores job serves (``scoring.predictions``, days as the
unit, the default churn horizon) is then asked to rank the customers who
buy nothing in the holdout above those who do: its AUC is compared with
ranking by recency alone (days since the last purchase), the heuristic that
is hard to beat for this question (Wübben and Wangenheim 2008), with a paired
bootstrap interval for the difference.
``run`` is what ``basirat evaluate --clv`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import clv, scoring

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


def auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: the chance a positive outranks a negative (ties count half)."""
    positive, score = np.asarray(positive, dtype=bool), np.asarray(score, dtype="float64")
    ranks = pd.Series(score).rank(method="average").to_numpy()
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def churn_ranking(
    positive: np.ndarray, model: np.ndarray, baseline: np.ndarray, resamples: int = 200, seed: int = 0
) -> dict:
    """AUC of the model and of the baseline, and a paired bootstrap 95% interval of their difference."""
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(resamples):
        pick = rng.integers(0, len(positive), len(positive))
        differences.append(auc(positive[pick], model[pick]) - auc(positive[pick], baseline[pick]))
    low, high = np.percentile(differences, [2.5, 97.5])
    model_auc, baseline_auc = auc(positive, model), auc(positive, baseline)
    return {
        "churn_auc": round(model_auc, 4),
        "recency_auc": round(baseline_auc, 4),
        "churn_auc_gain": round(model_auc - baseline_auc, 4),
        "churn_auc_gain_95": [round(float(low), 4), round(float(high), 4)],
    }


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
    progress(f"clv: churn risk as served (no order in the next {scoring.CHURN_HORIZON_DAYS} days, MBG/NBD in days)")
    served = scoring.predictions(transactions, CALIBRATION_END, scoring.CHURN_HORIZON_DAYS).reindex(summary.index)
    days = clv.rfm_summary(transactions, CALIBRATION_END, unit_days=1.0).reindex(summary.index)
    report["churned_in_holdout"] = round(float((actual == 0).mean()), 4)
    report.update(churn_ranking(actual == 0, served["churn_risk"].to_numpy(), (days["T"] - days["recency"]).to_numpy()))
    progress(
        f"clv: r={params['r']} alpha={params['alpha']} a={params['a']} b={params['b']} "
        f"(published {PUBLISHED}); holdout predicted {report['holdout_predicted_total']} vs actual "
        f"{report['holdout_actual_total']} repeat purchases; MAE {report['mae']} (baseline {report['baseline_mae']}); "
        f"churn AUC {report['churn_auc']} vs recency {report['recency_auc']} "
        f"(gain {report['churn_auc_gain']}, 95% {report['churn_auc_gain_95']})"
    )
    return report
