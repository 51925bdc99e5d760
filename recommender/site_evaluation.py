"""A store's own evaluation: its visits, split by time, every strategy scored as served.

The reference data sets say how the strategies compare on someone else's
shop; this says how they compare on this one. Visits are cut with the
product's one visit gap (``SESSION_TIMEOUT_MINUTES``), as the mining jobs cut
them; the job runs weekly and stores each site's table for the admin.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from warehouse.queries import rec_offline
from warehouse.queries import sites as site_store

from .evaluate import evaluate_split
from .mining import sessionize
from .session_data import DataError, prepare, subsample, time_split

TEST_DAYS = 7.0
MAX_TEST_SESSIONS = 5000  # keeps a big store's weekly run within minutes; the first by id, so runs repeat


def site_sessions(warehouse, config: dict, site_id: str) -> pd.DataFrame:
    """``session_id, item_id, time``: the site's visits of product views and cart adds."""
    clicks = rec_offline.site_clicks(warehouse, site_id).assign(site_id=site_id)
    visits = sessionize(clicks, float(config["SESSION_TIMEOUT_MINUTES"]))
    return visits[["session_id", "item_id", "time"]].astype({"time": "float64"})


def evaluate_site(warehouse, config: dict, site_id: str, test_days: float = TEST_DAYS, progress=print) -> tuple:
    """(rows, sizes) for one site; raises ``DataError`` when it has too little data to split."""
    split = time_split(prepare(site_sessions(warehouse, config, site_id), min_item_support=2), test_days)
    split = subsample(split, MAX_TEST_SESSIONS)
    return evaluate_split(split, progress), split.describe()


def run_site_evaluations(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    """The weekly job: evaluate every site on its own last week, store what could be evaluated."""
    done = {}
    for site in site_store.list_sites(warehouse, config.get("sites")):
        site_id = site["site_id"]
        try:
            rows, sizes = evaluate_site(warehouse, config, site_id, progress=lambda _m: None)
        except DataError as exc:
            progress(f"evaluate: {site_id}: skipped, {exc}")
            continue
        rec_offline.write_results(warehouse, site_id, "own sessions", rows, sizes)
        done[site_id] = sizes["test_sessions"]
        progress(f"evaluate: {site_id}: {sizes['test_sessions']:,} test sessions evaluated")
    return done
