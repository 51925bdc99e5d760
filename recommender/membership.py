"""The segments job: recompute who is in which segment and record the moves.

Thin I/O around the pure rules of ``segments``: read facts per site, compute
members, diff against the open stays, write the changes, and hand them to the
webhooks. Returns the changes so callers (and tests) see what moved.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from warehouse import segments as store
from warehouse import sites

from .segments import all_segments, membership_changes

TIME_COLUMNS = ("first_seen", "last_seen", "first_order_at", "last_order_at", "last_cart_at")


def naive_times(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Datetime columns as naive UTC, whatever the backend returned."""
    for column in columns:
        values = pd.to_datetime(frame[column], utc=True)
        frame[column] = values.dt.tz_localize(None).astype("datetime64[s]")
    return frame


def site_facts(warehouse, site_id: str) -> tuple[pd.DataFrame, pd.Timestamp | None]:
    as_of = store.site_as_of(warehouse, site_id)
    if as_of is None:
        return pd.DataFrame(), None
    facts = naive_times(store.person_facts(warehouse, site_id), TIME_COLUMNS)
    return facts, pd.Timestamp(as_of)


def refresh_site(warehouse, site_id: str, extra: Callable | None = None) -> pd.DataFrame:
    """Recompute one site's segments; ``extra(site_id)`` adds members of custom segments."""
    facts, as_of = site_facts(warehouse, site_id)
    if as_of is None:
        return membership_changes(_empty_open(), _empty_members(), pd.Timestamp.now())
    computed = all_segments(facts, as_of)
    if extra is not None:
        computed = pd.concat([computed, extra(site_id)], ignore_index=True)
    computed = computed.drop_duplicates(["segment", "person_id"])
    current = store.open_memberships(warehouse, site_id)
    now = pd.Timestamp.now("UTC").tz_localize(None).floor("s")
    changes = membership_changes(current, computed, now)
    store.write_memberships(warehouse, site_id, changes)
    return changes


def refresh_all(warehouse, progress: Callable[[str], None] = print, extra: Callable | None = None) -> dict:
    moved = {}
    for site in sites.list_sites(warehouse):
        changes = refresh_site(warehouse, site["site_id"], extra)
        counts = changes["change"].value_counts().to_dict()
        progress(f"segments: site {site['site_id']}: {counts.get('entered', 0)} entered, {counts.get('left', 0)} left")
        moved[site["site_id"]] = changes
    return moved


def _empty_open() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": [],
            "person_id": [],
            "entered_at": pd.Series([], dtype="datetime64[s]"),
            "value": pd.Series([], dtype="float64"),
        }
    )


def _empty_members() -> pd.DataFrame:
    return pd.DataFrame({"segment": [], "person_id": [], "value": pd.Series([], dtype="float64")})
