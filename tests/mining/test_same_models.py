"""The jobs give the same models on every backend.

The same store goes into the embedded warehouse and into the server (the
ZooKeeper cluster under ``make test-cluster``); every job runs unchanged on
each, after a first batch of events and again, incrementally, after a second,
and each model, score and segment must come out the same. Scores decay
with the time the job runs, a second or two apart here, hence the tolerance.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mining import jobs
from tests.conftest import new_site
from tests.support.config import only
from tests.support.factories import store_history
from warehouse.queries import events, sites
from warehouse.queries.recommendations import latest_versions, load_model
from warehouse.queries.segments import open_memberships

pytestmark = pytest.mark.server

TABLES = {
    "popularity": "rec_popularity",
    "cooccurrence": "rec_item_neighbors",
    "rules": "rec_item_neighbors",
    "sequential": "rec_item_neighbors",
    "person": "rec_person_items",
    "sessions": "rec_sessions",
}


def _mine(warehouse, site: dict, batches: list[list[dict]]) -> dict:
    """Every job after each batch of events: the first run, then the incremental ones."""
    for rows in batches:
        events.insert_events(warehouse, rows)
        jobs.run_all(warehouse, only(site["site_id"]), progress=lambda _m: None)
    versions = {model: v for (s, model), v in latest_versions(warehouse).items() if s == site["site_id"]}
    models = {model: load_model(warehouse, TABLES[model], site["site_id"], v) for model, v in versions.items()}
    scores = warehouse.query_df(
        """
        SELECT person_id, orders, historic_value, recency_score, frequency_score, monetary_score
        FROM person_scores
        WHERE site_id = {site:String}
          AND model_version = (SELECT max(model_version) FROM person_scores WHERE site_id = {site:String})
        """,
        {"site": site["site_id"]},
    )
    members = open_memberships(warehouse, site["site_id"])[["segment", "person_id", "value"]]
    return {**models, "scores": scores, "segments": members}


def _same(name: str, left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert len(left) == len(right), (name, len(left), len(right))
    if left.empty:
        return
    left, right = _listed(left), _listed(right)
    numbers = [c for c in left.columns if pd.api.types.is_numeric_dtype(left[c]) and c != "last_seen"]
    keys = [c for c in left.columns if c not in numbers]
    left = left.sort_values(keys).reset_index(drop=True)
    right = right[list(left.columns)].sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(left[keys].astype(str), right[keys].astype(str), obj=name)
    for column in numbers:
        assert np.allclose(left[column].astype(float), right[column].astype(float), rtol=1e-3, equal_nan=True), (
            name,
            column,
        )


def _listed(frame: pd.DataFrame) -> pd.DataFrame:
    """Array columns (a session's items) as text, so rows can be sorted and compared."""
    frame = frame.copy()
    for column in frame.columns:
        if len(frame) and isinstance(frame[column].iloc[0], (list, tuple, np.ndarray)):
            frame[column] = frame[column].map(lambda items: " ".join(map(str, items)))
    return frame


def test_every_job_gives_the_same_models_on_both_backends(chdb_warehouse, server_warehouse):
    site = new_site(chdb_warehouse, domains=["shop.example"])
    sites._write(server_warehouse, site)  # the same site, keys and all, on the server

    # The laptop's visit, its login as alice (stitched to her phone) and a view of a product out of stock come
    # after a first run.
    rows = store_history(site["site_id"])
    laptop = next(i for i, row in enumerate(rows) if row["anonymous_id"] == "laptop-1")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    batches = [
        [{**row, "received_at": now - dt.timedelta(minutes=20)} for row in rows[:laptop]],
        [{**row, "received_at": now - dt.timedelta(minutes=10)} for row in rows[laptop:]],
    ]
    embedded = _mine(chdb_warehouse, site, batches)
    server = _mine(server_warehouse, site, batches)

    assert set(embedded) == set(server)
    assert {"popularity", "cooccurrence", "rules", "sequential", "person", "sessions"} <= set(embedded)
    assert not embedded["person"].empty and not embedded["segments"].empty and not embedded["scores"].empty
    for name in embedded:
        _same(name, embedded[name], server[name])
