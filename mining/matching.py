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
from warehouse.queries import identity as stitching_store
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
    decided = resolve(
        records, store.verdicts(warehouse, site_id), settings, options, lambda line: progress(f"matching: {line}")
    )
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
    for site in sites.list_sites(warehouse, config.get("sites")):
        result = match_site(warehouse, site["site_id"], config, progress)
        for key in totals:
            totals[key] += result[key]
    return totals


VERDICTS = ("accept", "reject", "unsure")


def apply_verdict(warehouse, site_id: str, a: str, b: str, verdict: str, actor: str, config: dict) -> dict:
    """An operator's word on a queued pair, applied now and remembered for every later run.

    ``accept`` links the pair (tier ``review``); ``reject`` drops it and
    blocks the two records from one person, as an unmerge does; ``unsure``
    leaves it queued, behind the pairs nobody has looked at yet.
    """
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
    a, b = min(a, b), max(a, b)
    pair = store.matches(warehouse, site_id)
    pair = pair[(pair["a"] == a) & (pair["b"] == b)]
    if pair.empty:
        raise LookupError(f"no proposed pair {a} / {b} on this site")
    store.add_verdict(warehouse, site_id, a, b, verdict, actor)
    if verdict == "unsure":
        return {"changed": 0}
    row = pair.iloc[[0]].copy()
    row["decision"] = "link" if verdict == "accept" else "none"
    row["tier"] = "review" if verdict == "accept" else row["tier"]
    row["why"] = f"operator: {verdict}"
    store.write_matches(warehouse, site_id, row, time.time_ns(), keep_others=True)
    if verdict == "reject":
        stitching_store.add_override(warehouse, site_id, [(a, b)], "unmerge", actor, "review: not one person")
    return stitching.stitch_site(warehouse, site_id, int(config["IDENTITY_MAX_IDS"]))
