"""The identity job and the operator's merge/unmerge: I/O around ``stitch_identities``.

Each run adds the links shown by newly received events, re-stitches the site
from all its links (links are few next to events, and a full pass is what
makes the result independent of arrival order), and writes a new version only
for identities whose person or reason changed.

Claimed links (``claimed_…``: an id or an email a browser sent without the
store's proof, see ``collector.trust``) are kept for the profile to show but
never stitched: a claim never joins a browser to anyone, so it can neither
move a browser into a customer's person nor hand it their data.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd

from warehouse.queries import identity as store
from warehouse.queries import late_rows, sites
from warehouse.queries import matching as matches
from warehouse.queries import sessions as marks

from .identity import MANUAL, person_id_of, stitch_identities

JOB = "identity"


def stitch_site(warehouse, site_id: str, max_ids: int = 200, late_minutes: int = 60) -> dict:
    """Bring the site's identity map up to date; returns counts."""
    upto = marks.event_window(warehouse, site_id)
    version = time.time_ns()
    if upto is not None:
        mark = marks.high_water(warehouse, site_id, JOB)
        since, print_ = late_rows.window(warehouse, site_id, JOB, mark, upto, late_minutes)
        store.extract_links(warehouse, site_id, since, upto)
    links, blocks = _evidence(warehouse, site_id)
    claimed = links["reason"].astype(str).str.startswith(store.CLAIMED).to_numpy(dtype=bool)
    result = stitch_identities(links[~claimed], blocks, max_ids=max_ids)
    result.assignment = _with_alone(result.assignment, matches.record_identities(warehouse, site_id))
    changed = _changes(store.current_map(warehouse, site_id), result.assignment)
    written = store.write_map(warehouse, site_id, changed, version)
    if upto is not None:
        marks.set_high_water(warehouse, site_id, JOB, upto, version)
        late_rows.keep(warehouse, site_id, JOB, upto, print_)
    return {
        "site_id": site_id,
        "identities": len(result.assignment),
        "people": result.assignment["person_id"].nunique(),
        "changed": written,
        "refused": len(result.refused),
        "claimed": int(claimed.sum()),
    }


def _evidence(warehouse, site_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Links from events and imports, record matches, the operator's merges; and the unmerged pairs."""
    links = store.links(warehouse, site_id)
    decided = store.overrides(warehouse, site_id)
    merges = decided[decided["action"] == "merge"]
    manual = pd.DataFrame(
        {
            "a": merges["a"],
            "b": merges["b"],
            "reason": MANUAL,
            "message_id": ["override:" + str(v) for v in merges["version"]],
            "at": merges["at"],
        }
    )
    blocks = decided.loc[decided["action"] == "unmerge", ["a", "b"]]
    matched = matches.match_links(warehouse, site_id)
    frames = [f for f in (links, manual, matched) if not f.empty]
    all_links = pd.concat(frames, ignore_index=True) if frames else links
    return all_links, blocks


def _with_alone(assignment: pd.DataFrame, identities: list[str]) -> pd.DataFrame:
    """Customer records linked to nothing are people of their own: the admin lists them too."""
    missing = sorted(set(identities) - set(assignment["identity"]))
    if not missing:
        return assignment
    alone = pd.DataFrame(
        {
            "identity": missing,
            "person_id": [person_id_of(i) for i in missing],
            "via": "",
            "reason": "",
            "message_id": "",
            "linked_at": pd.Series([pd.NaT] * len(missing), dtype="datetime64[ns]"),
        }
    )
    return pd.concat([assignment, alone], ignore_index=True)


def _changes(current: pd.DataFrame, assignment: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``assignment`` that differ from the stored map (new versions only)."""
    stored = current.drop_duplicates("identity", keep="last").set_index("identity").reindex(assignment["identity"])
    changed = np.zeros(len(assignment), dtype=bool)
    for column in ("person_id", "via", "reason"):
        was = stored[column].to_numpy(dtype=object)
        changed |= was != assignment[column].to_numpy(dtype=object)
    return assignment[changed]


def merge(warehouse, site_id: str, a: str, b: str, actor: str, note: str = "", max_ids: int = 200) -> dict:
    """An operator says ``a`` and ``b`` are one person (even two known customers)."""
    store.add_override(warehouse, site_id, [(a, b)], "merge", actor, note)
    return stitch_site(warehouse, site_id, max_ids)


def unmerge(warehouse, site_id: str, identity: str, actor: str, note: str = "", max_ids: int = 200) -> dict:
    """Take ``identity`` out of its person.

    It keeps the identities its own evidence links it to (the devices a user
    logged in on, their email) and may no longer join any other companion, so
    a wrong merge, manual or through a link, is undone for good.
    """
    person = store.person_of(warehouse, site_id, identity)
    others = {r["identity"] for r in store.person_identities(warehouse, site_id, person or "")} - {identity}
    links = store.links(warehouse, site_id)
    links = links[~links["reason"].astype(str).str.startswith(store.CLAIMED)]
    own = set(links.loc[links["a"] == identity, "b"]) | set(links.loc[links["b"] == identity, "a"])
    pairs = [(identity, other) for other in sorted(others - own)]
    if not pairs:
        raise ValueError(f"{identity} is not merged with anything beyond its own links")
    store.add_override(warehouse, site_id, pairs, "unmerge", actor, note)
    return stitch_site(warehouse, site_id, max_ids)


def run_identity(
    warehouse, progress: Callable[[str], None] = print, max_ids: int = 200, late_minutes: int = 60, only=None
):
    totals = {"people": 0, "changed": 0}
    for site in sites.list_sites(warehouse, only):
        result = stitch_site(warehouse, site["site_id"], max_ids, late_minutes)
        totals["people"] += result["people"]
        totals["changed"] += result["changed"]
        progress(
            f"identity: {site['site_id']}: {result['identities']} ids in {result['people']} people, "
            f"{result['changed']} changed, {result['refused']} links refused, {result['claimed']} claimed (unverified)"
        )
    return totals
