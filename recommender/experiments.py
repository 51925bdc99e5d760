"""A/B tests of recommendation strategies: arms, assignment, and what the results say.

A site runs one experiment at a time over two or more arms. A visitor's arm
is a hash of the site, the experiment and the browser id (``anonymousId``),
so a browser keeps its arm on every page and in every endpoint process, and
a new experiment reshuffles everyone. A request without a browser id is
served as usual and counted in no arm. Each arm is a variant of the served
ranking or a control; the endpoint records the arm of every answer
(``rec_served_arms``), and impressions, clicks and attributed revenue per arm
come from the same events as the Recommendations page's other figures.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import replace

from .ranking import SERVED

ARMS = {
    "served": "the shipped ranking with the site's settings",
    "show_seen": "the shipped ranking, products viewed in the visit shown again in every context",
    "hide_seen": "the shipped ranking, products viewed in the visit never shown again",
    "stan": "STAN alone, without V-SKNN and sequential rules",
    "measured_returns": "the shipped ranking, seen products returned to as far back as this site's visitors go",
    "popular": "what is popular in context, the same for everyone (a control)",
}
STAN_ONLY = SERVED.with_values({"vsknn": 0.0, "sequential": 0.0, "discovery": {}})
MEASURED_RETURNS = SERVED.with_values({"repeat_decay": 0.0})
Z95 = 1.959964


def check_arms(arms: list[str]) -> list[str]:
    """``arms`` if they are two or more distinct known arms; else ValueError saying why."""
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        raise ValueError(f"unknown arm(s) {', '.join(unknown)}; known: {', '.join(ARMS)}")
    if len(set(arms)) < 2 or len(set(arms)) != len(arms):
        raise ValueError("an experiment needs two or more different arms")
    return arms


def check_name(name: str, arms: list[str]) -> str:
    """The experiment's name (``served-vs-stan`` when none is given); ValueError if it is not a plain word."""
    name = name.strip() or "-vs-".join(arms)
    if not re.fullmatch(r"[\w.-]{1,64}", name):
        raise ValueError("the name may hold letters, digits, '.', '-' and '_' (at most 64)")
    return name


def assign(site_id: str, experiment: str, browser_id: str, arms: tuple) -> str:
    """The arm of one browser: stable across pages and processes (not Python's salted ``hash``)."""
    digest = hashlib.blake2b(f"{site_id}\0{experiment}\0{browser_id}".encode(), digest_size=8).digest()
    return arms[int.from_bytes(digest, "big") % len(arms)]


def apply_arm(request, arm: str):
    """The request as ``arm`` answers it."""
    if arm == "show_seen":
        return replace(request, show_seen=True)
    if arm == "hide_seen":
        return replace(request, show_seen=False)
    if arm == "stan":
        return replace(request, params=STAN_ONLY)
    if arm == "measured_returns":
        return replace(request, params=MEASURED_RETURNS)
    if arm == "popular":
        return replace(request, session=[], person_id="")
    return request


def _wilson(successes: float, trials: float) -> tuple[float, float]:
    if trials <= 0:
        return 0.0, 0.0
    p = successes / trials
    centre = (p + Z95**2 / (2 * trials)) / (1 + Z95**2 / trials)
    half = Z95 * math.sqrt(p * (1 - p) / trials + Z95**2 / (4 * trials**2)) / (1 + Z95**2 / trials)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def _mean_and_se(total: float, squares: float, n: float) -> tuple[float, float]:
    if n <= 0:
        return 0.0, 0.0
    mean = total / n
    variance = max(squares / n - mean * mean, 0.0) * n / max(n - 1, 1)
    return mean, math.sqrt(variance / n)


def compare_arms(rows: list[dict], control: str) -> list[dict]:
    """Per arm: CTR and revenue per answer with 95% intervals, and whether each differs from ``control``.

    CTR is clicks over impressions (Wilson interval); a difference in CTR is
    judged by the two-proportion z-test, one in revenue per answer by Welch's
    z on per-answer revenue; "significant" means p < 0.05 two-sided.

    Parameters
    ----------
    rows : list of dict
        ``arm, answers, impressions, clicks, orders, revenue, revenue_sq``.
    control : str
        The arm the others are compared with (the experiment's first).
    """
    out = []
    for row in rows:
        impressions, clicks, answers = float(row["impressions"]), float(row["clicks"]), float(row["answers"])
        mean, se = _mean_and_se(float(row["revenue"]), float(row["revenue_sq"]), answers)
        out.append(
            {
                **row,
                "ctr": clicks / impressions if impressions else 0.0,
                "ctr_ci": _wilson(clicks, impressions),
                "revenue_per_answer": mean,
                "revenue_ci": (mean - Z95 * se, mean + Z95 * se),
                "_se": se,
            }
        )
    base = next((r for r in out if r["arm"] == control), None)
    for row in out:
        row["ctr_significant"] = row["revenue_significant"] = None
        if base is None or row is base:
            continue
        row["ctr_significant"] = _proportions_differ(base, row)
        spread = math.hypot(base["_se"], row["_se"])
        difference = row["revenue_per_answer"] - base["revenue_per_answer"]
        row["revenue_significant"] = bool(spread > 0 and abs(difference) / spread > Z95)
    for row in out:
        row.pop("_se")
    return out


def _proportions_differ(a: dict, b: dict) -> bool:
    n1, n2 = float(a["impressions"]), float(b["impressions"])
    if not n1 or not n2:
        return False
    pooled = (float(a["clicks"]) + float(b["clicks"])) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return bool(spread > 0 and abs(a["ctr"] - b["ctr"]) / spread > Z95)
