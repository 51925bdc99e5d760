"""The CLV models: hand-checked formulas, recovery of known parameters, the CDNOW fit, the scores job."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mining import clv, clv_report, jobs, scoring
from storefront.retail import read_retail
from tests.support.config import only
from tests.support.datasets import find_data
from tests.support.factories import order, tracked
from warehouse.queries import events
from warehouse.queries import scores as score_store


def test_rfm_summary_counts_repeat_days_in_units():
    tx = pd.DataFrame(
        {
            "customer": ["a", "a", "a", "a", "b"],
            "when": pd.to_datetime(
                ["2026-01-01", "2026-01-01 18:00:00", "2026-01-08", "2026-01-15", "2026-01-10"], format="ISO8601"
            ),
            "value": [10.0, 5.0, 20.0, 40.0, 7.0],
        }
    )
    s = clv.rfm_summary(tx, pd.Timestamp("2026-01-29"), unit_days=7)
    assert s.loc["a"].tolist() == [2, 2.0, 4.0, 30.0]
    assert s.loc["b"].tolist() == [0, 0.0, 19 / 7, 0.0]


def test_p_alive_and_spend_follow_the_closed_forms():
    m = clv.BgNbd(r=0.25, alpha=4.0, a=0.8, b=2.5)
    assert clv.p_alive(m, [0], [0], [30])[0] == 1.0
    # x=2, t_x=10, T=30: 1 / (1 + a/(b+x-1) * ((alpha+T)/(alpha+t_x))**(r+x))
    expected = 1 / (1 + 0.8 / 3.5 * (34 / 14) ** 2.25)
    assert clv.p_alive(m, [2], [10], [30])[0] == pytest.approx(expected)
    recent, lapsed = clv.p_alive(m, [5, 5], [29, 5], [30, 30])
    assert recent > 0.85 > 0.01 > lapsed
    g = clv.GammaGamma(p=6.0, q=4.0, v=15.0)
    assert clv.expected_spend(g, [2], [30.0])[0] == pytest.approx(6 * (15 + 60) / (12 + 3))


def test_mbgnbd_lets_one_time_buyers_drop_out():
    m = clv.BgNbd(r=0.25, alpha=4.0, a=0.8, b=2.5)
    # x=0, t_x=0, T=30: 1 / (1 + a/b * ((alpha+T)/alpha)**r), below 1 unlike BG/NBD
    once = clv.mbg_p_alive(m, [0, 0], [0, 0], [30, 3])
    assert once[0] == pytest.approx(1 / (1 + 0.8 / 2.5 * (34 / 4) ** 0.25))
    assert once[0] < once[1] < 1.0
    # x=2, t_x=10, T=30: 1 / (1 + a/(b+x) * ((alpha+T)/(alpha+t_x))**(r+x))
    assert clv.mbg_p_alive(m, [2], [10], [30])[0] == pytest.approx(1 / (1 + 0.8 / 4.5 * (34 / 14) ** 2.25))


def test_no_purchase_chance_is_dropped_or_quiet():
    m = clv.BgNbd(r=0.5, alpha=10.0, a=0.8, b=2.5)
    # alive with probability 0.6, x=1, T=20, next 15 units: 0.4 + 0.6 * (30/45)**1.5
    assert clv.p_no_purchase(m, 15, [0.6], [1], [20])[0] == pytest.approx(0.4 + 0.6 * (30 / 45) ** 1.5)
    assert clv.p_no_purchase(m, 0, [0.6], [1], [20])[0] == 1.0  # nothing happens in no time
    assert clv.p_no_purchase(m, 1e12, [0.6], [1], [20])[0] == pytest.approx(0.4)  # in the long run, the dropped


def test_mbgnbd_expected_purchases_match_a_simulation():
    truth = clv.BgNbd(r=0.5, alpha=5.0, a=0.7, b=2.5)
    rng = np.random.default_rng(3)
    rows = []
    for lam, p in zip(rng.gamma(truth.r, 1 / truth.alpha, 20000), rng.beta(truth.a, truth.b, 20000)):
        t, x, last, later = 0.0, 0, 0.0, 0
        alive = rng.random() >= p  # MBG/NBD: may drop out right after the first purchase
        while alive:
            t += rng.exponential(1 / lam)
            if t > 60:
                break
            if t <= 52:
                x, last = x + 1, t
            else:
                later += 1
            alive = rng.random() >= p
        rows.append((x, last, 52.0, later))
    frame = pd.DataFrame(rows, columns=["frequency", "recency", "T", "later"])
    predicted = clv.mbg_expected_purchases(truth, 8, frame["frequency"], frame["recency"], frame["T"])
    assert predicted.sum() == pytest.approx(frame["later"].sum(), rel=0.08)
    quiet = clv.p_no_purchase(
        truth, 8, clv.mbg_p_alive(truth, frame["frequency"], frame["recency"], 52.0), frame["frequency"], 52.0
    )
    assert quiet.mean() == pytest.approx((frame["later"] == 0).mean(), abs=0.02)


def test_churn_risk_separates_people_where_every_p_alive_is_one():
    """The demo's 87 French customers: too few to identify a dropout rate, so the fit puts it at zero;
    the chance of a quiet quarter still tells the overdue from the regulars."""
    retail = read_retail()
    retail = retail[~retail["InvoiceNo"].astype(str).str.startswith("C")]
    orders = pd.DataFrame(
        {
            "customer": retail["CustomerID"],
            "when": retail["InvoiceDate"],
            "value": retail["UnitPrice"] * retail["Quantity"],
        }
    )
    scores = scoring.predictions(orders, orders["when"].max(), churn_horizon_days=90)
    assert len(scores) == orders["customer"].nunique()
    assert scores["churn_risk"].between(0, 1).all()
    assert scores["churn_risk"].quantile(0.9) - scores["churn_risk"].quantile(0.1) > 0.4
    days = clv.rfm_summary(orders, orders["when"].max()).reindex(scores.index)
    overdue = (days["T"] - days["recency"]).rank()
    assert scores["churn_risk"].rank().corr(overdue) > 0.5


def simulate(n: int, m: clv.BgNbd, T: float, rng: np.random.Generator) -> pd.DataFrame:
    """Customers drawn from the BG/NBD story: Poisson buying, dropping out after a purchase with prob p."""
    rows = []
    for lam, p in zip(rng.gamma(m.r, 1 / m.alpha, n), rng.beta(m.a, m.b, n)):
        t, x, last = 0.0, 0, 0.0
        while True:
            t += rng.exponential(1 / lam)
            if t > T:
                break
            x, last = x + 1, t
            if rng.random() < p:
                break
        rows.append((x, last, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


def test_fit_recovers_known_parameters():
    truth = clv.BgNbd(r=0.5, alpha=5.0, a=0.7, b=2.5)
    fitted = clv.fit_bgnbd(simulate(4000, truth, 52.0, np.random.default_rng(7)))
    assert fitted.r == pytest.approx(truth.r, rel=0.2)
    assert fitted.alpha == pytest.approx(truth.alpha, rel=0.25)
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(truth.a / (truth.a + truth.b), rel=0.25)


def test_mbgnbd_gradient_matches_finite_differences():
    from scipy.optimize import approx_fprime

    rng = np.random.default_rng(3)
    x = rng.integers(0, 8, 300).astype(float)
    T = rng.uniform(10, 400, 300)
    t_x = np.where(x > 0, rng.uniform(0, 1, 300) * T, 0.0)
    for params in ([1.0, 1.0, 1.0, 1.0], [0.3, 12.0, 0.8, 3.5], [2.0, 50.0, 0.05, 9.0]):
        point = np.array(params)
        exact = clv._mbgnbd_gradient(point, x, t_x, T).sum(axis=0)
        differences = approx_fprime(point, lambda p: clv._mbgnbd_loglik(p, x, t_x, T).sum(), 1e-7)
        assert exact == pytest.approx(differences, rel=1e-4, abs=1e-4)


def test_mbgnbd_fit_with_the_gradient_lands_where_differences_do():
    summary = simulate(3000, clv.BgNbd(r=0.5, alpha=5.0, a=0.7, b=2.5), 52.0, np.random.default_rng(11))
    fitted = clv.fit_mbgnbd(summary)
    grouped = summary.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    columns = tuple(grouped[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    plain = clv._fit(clv._mbgnbd_loglik, np.ones(4), columns, grouped["n"].to_numpy(dtype="float64"))
    assert [fitted.r, fitted.alpha, fitted.a, fitted.b] == pytest.approx(list(plain), rel=1e-3)


def test_cdnow_fit_is_close_to_the_published_one_and_beats_the_naive_rate():
    report = clv_report.run(find_data("cdnow/CDNOW_master.txt"), progress=lambda _: None)
    assert report["customers"] == 23570
    for name, value in clv_report.PUBLISHED.items():
        assert report["bgnbd"][name] == pytest.approx(value, rel=0.15), name
    assert report["mae"] < report["baseline_mae"]
    assert report["holdout_predicted_total"] == pytest.approx(report["holdout_actual_total"], rel=0.2)
    # The served churn risk ranks next season's non-buyers better than recency alone.
    assert report["churned_in_holdout"] == pytest.approx(0.70, abs=0.01)
    assert report["churn_auc"] > report["recency_auc"] > 0.7


def test_scores_job_values_people(warehouse, site):
    sid = site["site_id"]
    start = dt.datetime(2025, 1, 1)
    rows = []
    for i in range(30):
        who = f"c{i:02d}"
        visits = 1 + i % 5
        for k in range(visits):
            when = start + dt.timedelta(days=300 - 10 * k - (0 if i % 2 else 200))
            rows.append(order(sid, when, who, f"{who}-{k}", 10.0 + i))
    rows.append(tracked(sid, start + dt.timedelta(days=301), "Feedback Submitted", "c01", score=4.0))
    rows.append(tracked(sid, start + dt.timedelta(days=301), "Feedback Submitted", "c01", score=2.0))
    events.insert_events(warehouse, rows)
    jobs.run_scores(warehouse, only(sid), progress=lambda _: None)
    loyal = score_store.current_score(warehouse, sid, ["c09"])  # five orders, recent
    lapsed = score_store.current_score(warehouse, sid, ["c08"])  # four orders, 200 days earlier
    assert loyal["orders"] == 5 and loyal["historic_value"] == pytest.approx(5 * 19.0)
    assert 0 <= lapsed["p_alive"] < loyal["p_alive"] <= 1
    assert 1 - loyal["p_alive"] <= loyal["churn_risk"] < lapsed["churn_risk"] <= 1
    assert loyal["predicted_value"] > lapsed["predicted_value"] > 0
    assert loyal["recency_score"] == 5 and loyal["frequency_score"] == 5
    fan = score_store.current_score(warehouse, sid, ["c01"])
    assert fan["satisfaction"] == 3.0 and fan["feedback_count"] == 2


def test_scores_stay_empty_when_history_is_thin(warehouse, site):
    sid = site["site_id"]
    events.insert_events(warehouse, [order(sid, dt.datetime(2026, 1, 1), "solo", "o1", 12.0)])
    jobs.run_scores(warehouse, only(sid), progress=lambda _: None)
    solo = score_store.current_score(warehouse, sid, ["solo"])
    assert solo["historic_value"] == 12.0 and solo["predicted_value"] is None and solo["p_alive"] is None


def test_orders_without_amounts_get_no_predicted_value():
    days = pd.to_datetime(["2026-01-01", "2026-01-05", "2026-01-20", "2026-02-01"])
    tx = pd.DataFrame(
        {
            "customer": [c for c in "abcdefgh" for _ in days],
            "when": list(days) * 8,
            "value": 0.0,
        }
    )
    summary = clv.rfm_summary(tx, pd.Timestamp("2026-03-01"), unit_days=1.0)
    out, _, gg = clv.customer_value(summary, 365.0, 90.0)
    assert gg is None and out["predicted_value"].isna().all()
    assert (out["predicted_purchases"] > 0).all()
