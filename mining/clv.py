"""Customer lifetime value: (M)BG/NBD for purchases, Gamma-Gamma for spend.

The likelihoods of Fader, Hardie and Lee (BG/NBD, 2005; Gamma-Gamma, 2005)
and the modified BG/NBD of Batislam, Denizel and Filiztekin (2007, with the
erratum of Wagner and Hoppe 2008) are fitted here directly with scipy: the maintained alternatives either wrap
a full probabilistic-programming stack (pymc-marketing) or are unmaintained
(lifetimes) or a beta that pins old libraries (btyd). The closed forms are
short, vectorised, and checked against the published CDNOW parameters by
``clv_report``.

The product scores people with MBG/NBD: in BG/NBD a customer can only drop
out right after a repeat purchase, so everyone who bought once is "alive"
with probability 1, which is most customers of most stores. MBG/NBD lets a
customer drop out after the first purchase too. Churn risk is the chance of
no order in the next ``horizon`` days, P(X(t) = 0): it answers the store
owner's question and stays informative on a small store whose data cannot
identify a dropout rate (the fit then puts it at zero and P(alive) at 1 for
everyone, while the chance of a quiet quarter still ranks people by how
overdue they are).

Inputs are one row per customer: ``frequency`` (repeat purchase periods),
``recency`` (first to last purchase) and ``T`` (first purchase to the end of
observation), in one time unit, and ``monetary_value`` (mean repeat spend).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float


def rfm_summary(transactions: pd.DataFrame, as_of: pd.Timestamp, unit_days: float = 1.0) -> pd.DataFrame:
    """Frequency, recency, T and mean repeat spend per customer.

    Parameters
    ----------
    transactions : DataFrame
        ``customer, when, value``; purchases on the same day count as one.
    as_of : Timestamp
        End of the observation; later transactions are ignored.
    unit_days : float
        Length of the time unit in days (7 for weeks, as in the CDNOW papers).
    """
    frame = transactions[transactions["when"] <= as_of].copy()
    frame["day"] = frame["when"].dt.floor("D")
    daily = frame.groupby(["customer", "day"], as_index=False)["value"].sum()
    first = daily.groupby("customer")["day"].transform("min")
    repeat = daily[daily["day"] > first]
    grouped = daily.groupby("customer")
    out = pd.DataFrame(
        {
            "frequency": grouped.size() - 1,
            "recency": (grouped["day"].max() - grouped["day"].min()).dt.days / unit_days,
            "T": (as_of.floor("D") - grouped["day"].min()).dt.days / unit_days,
        }
    )
    out["monetary_value"] = repeat.groupby("customer")["value"].mean().reindex(out.index).fillna(0.0)
    return out


def _bgnbd_loglik(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x)
    return a1 + a2 + np.logaddexp(a3, np.where(x > 0, a4, -np.inf))


def _mbgnbd_loglik(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    quiet = betaln(a, b + x + 1) - betaln(a, b) - (r + x) * np.log(alpha + T)
    dropped = betaln(a + 1, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
    return head + np.logaddexp(quiet, dropped)


def _mbgnbd_gradient(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """d loglik / d (r, alpha, a, b), one row per customer: the fit's gradient in closed form,
    where differences cost five likelihoods a step (most of a scoring run's fit)."""
    r, alpha, a, b = params
    quiet = betaln(a, b + x + 1) - betaln(a, b) - (r + x) * np.log(alpha + T)
    dropped = betaln(a + 1, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
    w_quiet = expit(quiet - dropped)  # the share of the quiet branch in the sum of the two
    w_dropped = 1.0 - w_quiet
    ab, abx = digamma(a + b), digamma(a + b + x + 1)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w_quiet * np.log(alpha + T) - w_dropped * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (w_quiet / (alpha + T) + w_dropped / (alpha + t_x))
    d_a = ab - abx + w_dropped * (digamma(a + 1) - digamma(a))
    d_b = ab - abx - digamma(b) + w_quiet * digamma(b + x + 1) + w_dropped * digamma(b + x)
    return np.stack([d_r, d_alpha, d_a, d_b], axis=1)


# Standard deviation of a normal prior on each log-parameter (maximum a posteriori, not likelihood).
# Thousands of customers swamp it; a store with a few dozen gets finite parameters instead of the
# boundary fits (a rate's shape and scale running off together to 1e9) whose predictions are NaN.
PRIOR_SD = 5.0


def _fit(loglik, start: np.ndarray, columns: tuple, weights: np.ndarray, gradient=None) -> np.ndarray:
    total = weights.sum()

    def objective(log_params):
        prior = (log_params**2).sum() / (2 * PRIOR_SD**2)
        return -((weights * loglik(np.exp(log_params), *columns)).sum() - prior) / total

    def jacobian(log_params):
        params = np.exp(log_params)
        return -(weights @ gradient(params, *columns) * params - log_params / PRIOR_SD**2) / total

    # BFGS reaches the simplex's optimum (to ten digits on CDNOW) in about a quarter of the
    # evaluations; the simplex remains for an objective the gradient steps cannot follow.
    jac = jacobian if gradient is not None else None
    result = minimize(objective, np.log(start), jac=jac, method="BFGS", options={"gtol": 1e-8})
    if not (np.isfinite(result.fun) and np.isfinite(result.x).all()):
        result = minimize(
            objective, np.log(start), method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-10}
        )
    return np.exp(result.x)


def fit_bgnbd(summary: pd.DataFrame) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters (identical customers are counted once, weighted)."""
    grouped = summary.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    columns = tuple(grouped[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    with np.errstate(divide="ignore"):
        r, alpha, a, b = _fit(_bgnbd_loglik, np.ones(4), columns, grouped["n"].to_numpy(dtype="float64"))
    return BgNbd(float(r), float(alpha), float(a), float(b))


def fit_mbgnbd(summary: pd.DataFrame) -> BgNbd:
    """Maximum-likelihood MBG/NBD parameters (same four parameters as BG/NBD, another story)."""
    grouped = summary.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    columns = tuple(grouped[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
    with np.errstate(divide="ignore", over="ignore"):
        r, alpha, a, b = _fit(
            _mbgnbd_loglik, np.ones(4), columns, grouped["n"].to_numpy(dtype="float64"), _mbgnbd_gradient
        )
    return BgNbd(float(r), float(alpha), float(a), float(b))


def mbg_p_alive(m: BgNbd, x, t_x, T) -> np.ndarray:
    """MBG/NBD: probability the customer has not dropped out (below 1 for one-time buyers too)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    log_odds = np.log(m.a) - np.log(m.b + x) + (m.r + x) * (np.log(m.alpha + T) - np.log(m.alpha + t_x))
    return expit(-log_odds)


def mbg_expected_purchases(m: BgNbd, t: float, x, t_x, T) -> np.ndarray:
    """MBG/NBD: expected purchases in the next ``t`` units (Wagner and Hoppe 2008)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    hyp = hyp2f1(m.r + x, m.b + x + 1, m.a + m.b + x, t / (m.alpha + T + t))
    head = (m.a + m.b + x) / (m.a - 1)
    body = 1 - hyp * np.exp((m.r + x) * (np.log(m.alpha + T) - np.log(m.alpha + T + t)))
    return head * body * mbg_p_alive(m, x, t_x, T)


def p_no_purchase(m: BgNbd, t: float, alive, x, T) -> np.ndarray:
    """Chance of no purchase in the next ``t`` units: dropped out, or alive and quiet.

    While alive, purchases are Poisson with a rate whose posterior is
    Gamma(r + x, alpha + T), so a quiet stretch of ``t`` has probability
    ((alpha + T) / (alpha + T + t)) ** (r + x) (dropping out happens only at
    a purchase, in both models).
    """
    alive, x, T = (np.asarray(v, dtype="float64") for v in (alive, x, T))
    quiet = np.exp((m.r + x) * (np.log(m.alpha + T) - np.log(m.alpha + T + t)))
    return (1 - alive) + alive * quiet


def p_alive(m: BgNbd, x, t_x, T) -> np.ndarray:
    """Probability the customer has not dropped out, given their history."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    log_odds = (
        np.log(m.a) - np.log(m.b + np.maximum(x, 1) - 1) + (m.r + x) * (np.log(m.alpha + T) - np.log(m.alpha + t_x))
    )
    return np.where(x > 0, expit(-log_odds), 1.0)


def expected_purchases(m: BgNbd, t: float, x, t_x, T) -> np.ndarray:
    """Expected purchases in the next ``t`` units (Fader et al. 2005, eq. 10)."""
    x, t_x, T = (np.asarray(v, dtype="float64") for v in (x, t_x, T))
    z = t / (m.alpha + T + t)
    hyp = hyp2f1(m.r + x, m.b + x, m.a + m.b + x - 1, z)
    head = (m.a + m.b + x - 1) / (m.a - 1)
    body = 1 - np.exp((m.r + x) * (np.log(m.alpha + T) - np.log(m.alpha + T + t))) * hyp
    return head * body * p_alive(m, x, t_x, T)


def _gg_loglik(params: np.ndarray, x: np.ndarray, mean: np.ndarray) -> np.ndarray:
    p, q, v = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(mean)
        + px * np.log(x)
        - (px + q) * np.log(x * mean + v)
    )


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGamma:
    """Gamma-Gamma spend parameters from the customers with repeat purchases."""
    repeaters = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    columns = (repeaters["frequency"].to_numpy(dtype="float64"), repeaters["monetary_value"].to_numpy(dtype="float64"))
    p, q, v = _fit(_gg_loglik, np.ones(3), columns, np.ones(len(repeaters)))
    return GammaGamma(float(p), float(q), float(v))


def expected_spend(m: GammaGamma, x, mean) -> np.ndarray:
    """Expected value of a future transaction; the population mean for one-off buyers."""
    x, mean = np.asarray(x, dtype="float64"), np.asarray(mean, dtype="float64")
    return (m.p * (m.v + x * mean)) / (m.p * x + m.q - 1)


def customer_value(
    summary: pd.DataFrame, horizon: float, churn_horizon: float
) -> tuple[pd.DataFrame, BgNbd, GammaGamma | None]:
    """Fit MBG/NBD and Gamma-Gamma; purchases and value over ``horizon`` units, churn risk over ``churn_horizon``.

    Without a repeat buyer who spent something there is no Gamma-Gamma fit (None) and no predicted value.
    """
    mbg = fit_mbgnbd(summary)
    x, t_x, T = summary["frequency"], summary["recency"], summary["T"]
    out = pd.DataFrame(index=summary.index)
    out["predicted_purchases"] = mbg_expected_purchases(mbg, horizon, x, t_x, T)
    out["p_alive"] = mbg_p_alive(mbg, x, t_x, T)
    out["churn_risk"] = p_no_purchase(mbg, churn_horizon, out["p_alive"], x, T)
    # A store whose orders carry no amounts has no spend to model: value is unknown, not fitted on nothing.
    if not ((x > 0) & (summary["monetary_value"] > 0)).any():
        out["predicted_value"] = np.nan
        return out, mbg, None
    gg = fit_gamma_gamma(summary)
    out["predicted_value"] = out["predicted_purchases"] * expected_spend(gg, x, summary["monetary_value"])
    return out, mbg, gg
