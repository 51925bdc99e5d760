"""The segments job: recompute who is in which segment and record the moves.

Thin I/O around the pure rules of ``segments``: read facts per site, compute
members, diff against the open stays, write the changes, and hand them to the
webhooks. Returns the changes so callers (and tests) see what moved.
"""

from __future__ import annotations

import math
import re
from typing import Callable

import pandas as pd

from core.versions import new_version, refolds_in_full
from warehouse.queries import conditions, late_rows, sites
from warehouse.queries import mining as mining_store
from warehouse.queries import segments as store
from warehouse.queries import visit_items as mark_store

from .segments import (
    BUILT_IN,
    RULE_NAMES,
    all_segments,
    behaviour_segments,
    membership_changes,
    membership_step,
    rfm_segments,
    time_bands,
)

CUSTOM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

TIME_COLUMNS = ("first_seen", "last_seen", "first_order_at", "last_order_at", "last_cart_at")


def naive_times(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Datetime columns as naive UTC, whatever the backend returned."""
    for column in columns:
        values = pd.to_datetime(frame[column], utc=True)
        frame[column] = values.dt.tz_localize(None).astype("datetime64[s]")
    return frame


# Events per part of the people whose facts are read at once: ClickHouse
# aggregates, and this process holds, one part's people at a time.
FACT_PART_EVENTS = 3_000_000


# Folded rows (pairs of ids) per part when the facts are read from the fold: each part reads every
# folded row, and pairs are few next to events.
FOLD_PART_ROWS = 1_500_000


def fact_parts(warehouse, site_id: str) -> int:
    return max(1, math.ceil(store.event_count(warehouse, site_id) / FACT_PART_EVENTS))


def fold_parts(warehouse, site_id: str, generation: int) -> int:
    return max(1, math.ceil(store.fold_rows(warehouse, site_id, generation) / FOLD_PART_ROWS))


def fold_facts(warehouse, site_id: str, config: dict | None = None, progress: Callable[[str], None] = print):
    """Bring the site's facts per pair of ids (``id_pair_facts``) up to date; their generation (None: no events).

    As ``recommender.jobs.visitor_votes``: the first run, and a ``--full``
    one (``config["full"]``, the time the run began in ns), fold every pair
    in parts under a new generation; later runs refold the pairs with events
    received since the last run's high water (less ``LATE_EVENTS_MINUTES`` when rows arrived late)
    (and those with events past ``RETENTION_DAYS``), which gives the same
    rows. Segments and scores both read them, so a run folds once.
    """
    config = config or {}
    upto = mining_store.received_upto(warehouse, site_id)
    if upto is None:
        return None
    found = mark_store.mark(warehouse, site_id, job=store.FOLD_JOB)
    full = refolds_in_full(config, found)
    # Nothing received since the last fold (scores folded just before segments, say) and no events
    # expire: a row loaded late behind this mark is still read by the next refold (``late_rows``).
    if found and not full and found["high_water"] >= upto and not int(config.get("RETENTION_DAYS", 0)):
        return found["generation"]
    late = int(config.get("LATE_EVENTS_MINUTES", 60))
    since, print_ = late_rows.window(warehouse, site_id, store.FOLD_JOB, found and found["high_water"], upto, late)
    if found and not full:
        progress(f"facts: {site_id}: refolding pairs of ids with events since {since:%Y-%m-%d %H:%M}")
        days = int(config.get("RETENTION_DAYS", 0))
        store.fold_changed(warehouse, site_id, found["generation"], since, upto, new_version(), days)
        mark_store.set_mark(warehouse, site_id, found["generation"], upto, new_version(), job=store.FOLD_JOB)
        late_rows.keep(warehouse, site_id, store.FOLD_JOB, upto, print_)
        return found["generation"]
    parts, generation = fact_parts(warehouse, site_id), new_version()
    for part in range(parts):
        progress(f"facts: {site_id}: folding facts per pair of ids, part {part + 1}/{parts}")
        store.fold_part(warehouse, site_id, generation, part, parts)
        warehouse.release_memory()
    mark_store.set_mark(warehouse, site_id, generation, upto, new_version(), job=store.FOLD_JOB)
    late_rows.keep(warehouse, site_id, store.FOLD_JOB, upto, print_)
    return generation


def person_facts(
    warehouse,
    site_id: str,
    until=None,
    orders_only: bool = False,
    parts: int = 1,
    generation: int | None = None,
    judged: dict | None = None,
) -> pd.DataFrame:
    """Every person's facts, read in ``parts`` parts (by hash of the person) and put together;
    from the folded pairs of ``generation`` when given, else from the events (up to ``until``);
    only the people a segments run judges again with ``judged`` (``store.person_facts``)."""
    frames = []
    for part in range(parts):
        frame = store.person_facts(warehouse, site_id, until, orders_only, part, parts, generation, judged=judged)
        frames.append(naive_times(frame, TIME_COLUMNS))
        warehouse.release_memory()
    filled = [frame for frame in frames if len(frame)]
    if len(filled) <= 1:
        return (filled or frames)[0]
    return pd.concat(filled, ignore_index=True)


def built_in_members(
    warehouse,
    site_id: str,
    as_of: pd.Timestamp,
    until=None,
    parts: int = 1,
    generation: int | None = None,
    run: int = 0,
) -> pd.DataFrame:
    """``segments.all_segments`` of every person's facts, read in ``parts``: each part is judged by
    the behaviour rules as it comes, and only its buyers are kept for the RFM cells. The facts are
    the folded pairs' of ``generation`` when given, else the events' up to ``until`` (from the copy
    ``run`` when given, ``store.copied_facts``)."""
    members, buyers = [], []
    for part in range(parts):
        frame = store.person_facts(warehouse, site_id, until, False, part, parts, generation, run)
        warehouse.release_memory()
        if not len(frame):
            continue
        facts = naive_times(frame, TIME_COLUMNS)
        members.append(behaviour_segments(facts, as_of))
        buyers.append(facts[facts["orders"] > 0])
        del frame, facts
    if not buyers:
        return _empty_members()
    cells = rfm_segments(pd.concat(buyers, ignore_index=True), as_of)
    return pd.concat([cells, *members], ignore_index=True)


def site_facts(
    warehouse, site_id: str, orders_only: bool = False, config: dict | None = None, progress=print
) -> tuple[pd.DataFrame, pd.Timestamp | None]:
    """Every person's facts as of the site's latest event, from its folded pairs (brought up to date first)."""
    as_of = store.site_as_of(warehouse, site_id)
    if as_of is None:
        return pd.DataFrame(), None
    generation = fold_facts(warehouse, site_id, config, progress)
    # The buyers' facts are those of the pairs with an order: few next to the visitors'.
    parts = 1 if orders_only else fold_parts(warehouse, site_id, generation)
    facts = person_facts(warehouse, site_id, orders_only=orders_only, parts=parts, generation=generation)
    return facts, pd.Timestamp(as_of)


def backfill_site(warehouse, site_id: str, days: int, now: pd.Timestamp, progress: Callable[[str], None] = print):
    """A site's first run: the built-in segments as of each of the last ``days`` days, so trends start real.

    Without it every member "enters" at the first run and a segment's trend is
    flat at zero until then. Each past day is judged on the events up to that
    day (``days`` before the site's latest event, as the live run is judged as
    of it) and dated that many days before ``now``. Custom segments start at
    the first run: their conditions read today's facts only. Returns the open
    stays the backfill leaves, for the live run to diff against.
    """
    as_of = store.site_as_of(warehouse, site_id)
    current = _empty_open()
    if as_of is None or days <= 0:
        return current
    progress(f"segments: site {site_id}: first run, membership as of each of the last {days} days")
    parts = fact_parts(warehouse, site_id)
    progress(f"segments: site {site_id}: copying the facts by day")
    with store.copied_facts(warehouse, site_id, new_version(), as_of, days, parts) as run:
        for back in range(days, 0, -1):
            judged = pd.Timestamp(as_of) - pd.Timedelta(days=back)
            progress(f"segments: site {site_id}: day {days - back + 1} of {days} ({judged:%Y-%m-%d})")
            computed = built_in_members(warehouse, site_id, judged, judged.to_pydatetime(), parts, run=run)
            changes, current = membership_step(current, computed, now - pd.Timedelta(days=back))
            # Each day's moves are written as they come: later days' versions are newer, as in one insert.
            store.write_memberships(warehouse, site_id, changes)
            del computed, changes
            warehouse.release_memory()
    return current


def custom_members(warehouse, site_id: str, progress: Callable[[str], None] = print) -> pd.DataFrame:
    """Members of the site's custom segments; a definition that no longer compiles is reported and skipped."""
    parts = [_empty_members()]
    for segment in conditions.custom_segments(warehouse, site_id):
        try:
            people = conditions.matching_people(warehouse, site_id, segment["conditions"])
        except conditions.ConditionError as exc:
            progress(f"segments: custom segment {segment['name']!r} skipped: {exc}")
            continue
        parts.append(pd.DataFrame({"person_id": people, "segment": segment["name"], "value": 0.0}))
    return pd.concat(parts, ignore_index=True)


def define_custom(warehouse, site_id: str, name: str, definition: list) -> int:
    """Store a custom segment after checking its name and conditions; returns how many people match now."""
    if not CUSTOM_NAME.match(name) or name in RULE_NAMES:
        raise conditions.ConditionError(
            "a custom segment name is 1-48 lowercase letters, digits or _ (starting with a letter), "
            f"and not a built-in one ({', '.join(RULE_NAMES)})"
        )
    people = conditions.matching_people(warehouse, site_id, definition)
    conditions.define_segment(warehouse, site_id, name, definition)
    return len(people)


# The mark (``visit_items.mark``) of a site's last segments run: the version of its last run judging
# everyone (generation), the as-of it judged (high water), its version.
SEGMENTS_JOB = "segments"
# How long a site's runs judge only the people who may have moved before one judges everyone again.
SEGMENTS_FULL_HOURS = 24


def refresh_site(
    warehouse,
    site_id: str,
    progress: Callable[[str], None] = print,
    history_days: int = 0,
    config: dict | None = None,
) -> pd.DataFrame:
    """Recompute one site's built-in and custom segments and record who moved.

    On a site's first run, ``history_days`` of past membership are computed
    first (``backfill_site``). People are judged from the facts per pair of
    ids brought up to date by ``fold_facts`` (``config`` holds its settings).
    A run judges everyone when ``_judging`` says so; otherwise only who may
    have moved since the last run: every buyer, the people whose facts
    changed, and those a rule's time window crossed (``time_bands``). The
    others' built-in stays are left as they are, which is what judging them
    would give. Custom segments are judged whole.
    """
    as_of = store.site_as_of(warehouse, site_id)
    if as_of is None:
        return membership_changes(_empty_open(), _empty_members(), pd.Timestamp.now())
    as_of = pd.Timestamp(as_of)
    now = pd.Timestamp.now("UTC").tz_localize(None).floor("s")
    if history_days > 0 and not store.has_history(warehouse, site_id):
        current, last = backfill_site(warehouse, site_id, history_days, now, progress), None
    else:
        current = store.open_memberships(warehouse, site_id)
        last = mark_store.mark(warehouse, site_id, job=SEGMENTS_JOB)
    warehouse.release_memory()
    generation = fold_facts(warehouse, site_id, config, progress)
    # After the fold, before the facts are read: pairs refolded and identities mapped anew from now on are
    # newer, and the next run judges their people again.
    version = new_version()
    parts = fold_parts(warehouse, site_id, generation)
    judged = _judging(config or {}, last, generation, as_of, version)
    if judged is None:
        built_in, last_full = built_in_members(warehouse, site_id, as_of, parts=parts, generation=generation), version
    else:
        facts = person_facts(warehouse, site_id, parts=parts, generation=generation, judged=judged)
        progress(
            f"segments: site {site_id}: judging {len(facts):,} people again "
            "(every buyer, and those whose facts changed or who crossed a rule's time window)"
        )
        built_in, last_full = all_segments(facts, as_of), last["generation"]
        people = set(facts["person_id"]).union(store.changed_people(warehouse, site_id, generation, judged["since"]))
        current = current[~current["segment"].isin(BUILT_IN) | current["person_id"].isin(people)]
        del facts, people
    computed = pd.concat([built_in, custom_members(warehouse, site_id, progress)], ignore_index=True)
    computed = computed.drop_duplicates(["segment", "person_id"])
    del built_in
    changes = membership_changes(current, computed, now)
    store.write_memberships(warehouse, site_id, changes)
    mark_store.set_mark(warehouse, site_id, last_full, as_of.to_pydatetime(), version, job=SEGMENTS_JOB)
    return changes


def _judging(config: dict, last: dict | None, generation: int, as_of: pd.Timestamp, version: int) -> dict | None:
    """What ``store.person_facts`` judges again (``judged``), or None for everyone: on ``--full``, without
    a last run, when the facts were folded anew after its last full judgement, when that is
    ``SEGMENTS_FULL_HOURS`` old, or when the site's as-of went back (events deleted)."""
    if config.get("full") or last is None or generation > last["generation"]:
        return None
    before = pd.Timestamp(last["high_water"])
    if version - last["generation"] >= SEGMENTS_FULL_HOURS * 3600 * 10**9 or as_of < before:
        return None
    bands = [(column, first.to_pydatetime(), end.to_pydatetime()) for column, first, end in time_bands(before, as_of)]
    return {"since": last["version"], "bands": bands}


def refresh_all(
    warehouse, progress: Callable[[str], None] = print, history_days: int = 0, only=None, config: dict | None = None
) -> dict:
    moved = {}
    for site in sites.list_sites(warehouse, only):
        changes = refresh_site(warehouse, site["site_id"], progress, history_days, config)
        counts = changes["change"].value_counts().to_dict()
        progress(f"segments: site {site['site_id']}: {counts.get('entered', 0)} entered, {counts.get('left', 0)} left")
        moved[site["site_id"]] = changes
    return moved


def _empty_open() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": pd.Series([], dtype=object),
            "person_id": pd.Series([], dtype=object),
            "entered_at": pd.Series([], dtype="datetime64[s]"),
            "value": pd.Series([], dtype="float64"),
        }
    )


def _empty_members() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": pd.Series([], dtype=object),
            "person_id": pd.Series([], dtype=object),
            "value": pd.Series([], dtype="float64"),
        }
    )
