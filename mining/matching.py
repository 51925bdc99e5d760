"""The matching job: customer records of a site resolved into pairs, written as identity evidence.

Reads the site's records and operators' verdicts, runs ``matching.resolve``,
adds a link from each resolved group to the email identity the web store
knows (only when no other group holds that address), writes the decisions
(``identity_matches``), then re-stitches the site so people follow at once.
"""

from __future__ import annotations

import time
from typing import Callable

import pandas as pd

from matching.decide import MatchSettings, clusters, frequent_values
from matching.linkage import LinkOptions
from matching.resolve import resolve
from warehouse.queries import matching as store
from warehouse.queries import sites
from warehouse.queries.identity import email_identity

from . import stitching


def settings_of(config: dict) -> tuple[MatchSettings, LinkOptions]:
    return (
        MatchSettings(
            link_weight=float(config["MATCH_LINK_WEIGHT"]),
            review_weight=float(config["MATCH_REVIEW_WEIGHT"]),
            max_shared=int(config["MATCH_MAX_SHARED"]),
        ),
        LinkOptions(train_min=int(config["MATCH_TRAIN_MIN"])),
    )


def web_bridges(records: pd.DataFrame, decided: pd.DataFrame, max_shared: int) -> pd.DataFrame:
    """Links from a record to the web's email identity, where the address belongs to one group only."""
    group = clusters(records["uid"], decided)
    frequent = frequent_values(records, "std_email", max_shared)
    emails = pd.DataFrame({"uid": records["uid"], "email": records["email"].str.strip().str.lower()})
    emails["group"] = group.reindex(records["uid"]).to_numpy()
    emails = emails[(records["std_email"] != "").to_numpy() & ~records["std_email"].isin(frequent).to_numpy()]
    groups_per_email = emails.groupby("email")["group"].nunique()
    single = emails[emails["email"].map(groups_per_email) == 1].drop_duplicates("email")
    return pd.DataFrame(
        {
            "a": single["uid"].to_numpy(),
            "b": [email_identity(e) for e in single["email"]],
            "tier": "email",
            "weight": float("inf"),
            "probability": 1.0,
            "agree": [["email"] for _ in range(len(single))],
            "close": [[] for _ in range(len(single))],
            "differ": [[] for _ in range(len(single))],
            "decision": "link",
            "why": "the web store's email identity",
        }
    )


def match_site(warehouse, site_id: str, config: dict, progress: Callable[[str], None] = print) -> dict:
    """Resolve the site's records, record the decisions and re-stitch; returns counts."""
    settings, options = settings_of(config)
    records = store.records(warehouse, site_id)
    if records.empty:
        return {"site_id": site_id, "records": 0, "links": 0, "review": 0}
    started = time.perf_counter()
    progress(f"matching: {site_id}: {len(records)} records")
    decided = resolve(records, store.verdicts(warehouse, site_id), settings, options)
    bridges = web_bridges(records, decided, settings.max_shared)
    store.write_matches(warehouse, site_id, pd.concat([decided, bridges], ignore_index=True), time.time_ns())
    stitched = stitching.stitch_site(warehouse, site_id, int(config["IDENTITY_MAX_IDS"]))
    counts = decided["decision"].value_counts()
    result = {
        "site_id": site_id,
        "records": len(records),
        "links": int(counts.get("link", 0)),
        "review": int(counts.get("review", 0)),
        "people": stitched["people"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    progress(
        f"matching: {site_id}: {result['links']} pairs linked, {result['review']} for review, "
        f"{len(bridges)} joined to web emails, {result['seconds']}s"
    )
    return result


def run_matching(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    totals = {"records": 0, "links": 0, "review": 0}
    for site in sites.list_sites(warehouse):
        result = match_site(warehouse, site["site_id"], config, progress)
        for key in totals:
            totals[key] += result[key]
    return totals
