"""A full run's interactions, copied once in the order of whom they belong to.

A full mining run reads a site's interactions in parts, each a share of the
visitors or people, so that one query holds one part's rows. Picked by a hash
over the events, every part read every event, and the reads grew with parts
times events. Copied once into ``mining_rows``, sorted by a bucket of the same
hash, a part reads the granules of its range of buckets: the run reads the
events once, whatever the number of parts.

Each copy is a ``run`` (a partition of its own), dropped when the run ends;
the retention job drops any a stopped process left (and those of
``visit_rows`` and ``fact_rows``, the sessions' and the segments' backfill's
copies of the events, and ``fact_days``, the backfill's facts by day). A copy keyed by visitor fills ``visitor_id``, one
keyed by person ``person_id``, so that erasure finds either by its column's
name.
"""

from __future__ import annotations

from contextlib import contextmanager, suppress
from typing import Callable, Iterator

from warehouse.engine.connection import Warehouse, WarehouseError

# The tables copies go to: interactions (this module's), events for the visits (``sessions``) and for
# the people's facts, and those facts by day (``segments``).
TABLES = ("mining_rows", "visit_rows", "fact_rows", "fact_days")
# Buckets of the hash: a part's rows are a range of them, so parts are even up to this many.
BUCKETS = 65536
KEYS = ("visitor_id", "person_id")
# Rows per block written: the copy sorts each block before writing it, and
# larger blocks only cost memory (copying 10M events on chDB, the process peaked at 780 MB with
# 200,000 and at 1,130 MB with the default).
BLOCK_ROWS = 200_000


def small_blocks(warehouse: Warehouse) -> str:
    """The SETTINGS clause that writes a copy in blocks of ``BLOCK_ROWS``, on servers whose INSERT ... SELECT
    takes one (21.1+, as for ``optimize_on_insert``; an older one copies in its own memory, not the job's),
    and in one thread in the embedded engine (``one_thread``)."""
    settings = []
    if warehouse.features.get("optimize_on_insert"):
        settings.append(f"min_insert_block_size_rows = {BLOCK_ROWS}, min_insert_block_size_bytes = 0")
    if warehouse.features.get("embedded"):
        settings.append(ONE_THREAD)
    return f"\nSETTINGS {', '.join(settings)}" if settings else ""


# In the embedded engine a statement's memory is the job's, and each thread reads and aggregates blocks
# of its own: copying 30M events for the segments' replay and folding them by day peaked at 963 MB in
# one thread and at 1,222 MB in two, in about the same time. A server's memory is not the job's.
ONE_THREAD = "max_threads = 1"


def one_thread(warehouse: Warehouse) -> str:
    """The SETTINGS clause of a full run's heavy statement: ``ONE_THREAD`` in the embedded engine, else none."""
    return f"\nSETTINGS {ONE_THREAD}" if warehouse.features.get("embedded") else ""


def _insert(key: str, rows: str) -> str:
    if key not in KEYS:
        raise ValueError(f"mining rows are keyed by one of {KEYS}, not {key!r}")
    other = KEYS[1 - KEYS.index(key)]
    return f"""
        INSERT INTO mining_rows (site_id, run, bucket, {key}, {other}, item_id, kind, time)
        SELECT {{site_id:String}}, {{run:UInt64}}, cityHash64(key) % {BUCKETS}, key, '', item_id, kind, time
        FROM ({rows})
        """


def copy(warehouse: Warehouse, site_id: str, run: int, key: str, rows: str, params: dict) -> None:
    """Copy the rows ``rows`` selects (SQL, ``params`` bound: ``key, item_id, kind, time``) under ``run``."""
    warehouse.execute(_insert(key, rows) + small_blocks(warehouse), {**params, "site_id": site_id, "run": run})


# One part of a copy, in any of ``TABLES``: its run and its range of buckets (``bounds``), which the
# copy's sort key reads alone.
PART = "run = {run:UInt64} AND bucket >= {first_bucket:UInt32} AND bucket < {end_bucket:UInt32}"


def part_rows(key: str, name: str) -> str:
    """SQL for one part's copied rows (``name, item_id, kind, time``, ``name`` the ``key``):
    ``{site_id:String}``, ``{run:UInt64}`` and the part's bucket range (``bounds``) bound."""
    if key not in KEYS:
        raise ValueError(f"mining rows are keyed by one of {KEYS}, not {key!r}")
    return f"SELECT {key} AS {name}, item_id, kind, time FROM mining_rows WHERE site_id = {{site_id:String}} AND {PART}"


def in_part(column: str) -> str:
    """SQL picking the rows of another table whose ``column`` (a visitor or person id) falls in the
    part's buckets: the same ids as ``part_rows``, with the same values bound."""
    return (
        f"cityHash64({column}) % {BUCKETS} >= {{first_bucket:UInt32}} "
        f"AND cityHash64({column}) % {BUCKETS} < {{end_bucket:UInt32}}"
    )


def bounds(part: int, parts: int) -> dict:
    """Part ``part`` of ``parts``: its range of buckets, as ``part_rows`` binds it."""
    return {"first_bucket": part * BUCKETS // parts, "end_bucket": (part + 1) * BUCKETS // parts}


def drop(warehouse: Warehouse, run: int, table: str = "mining_rows") -> None:
    if table not in TABLES:
        raise ValueError(f"copies are in one of {TABLES}, not {table!r}")
    warehouse.execute(f"ALTER TABLE {table} DROP PARTITION {int(run)}")


@contextmanager
def filled(warehouse: Warehouse, table: str, run: int, fill: Callable[[], None]) -> Iterator[int]:
    """Call ``fill`` (which writes ``table``, one of ``TABLES``, under ``run``) for the ``with`` block;
    what it wrote is dropped after the block, however it ends."""
    if table not in TABLES:
        raise ValueError(f"copies are in one of {TABLES}, not {table!r}")
    try:
        fill()
    except Exception:
        # What a failed copy wrote goes too; the copy's own error is the one to see.
        with suppress(WarehouseError):
            drop(warehouse, run, table)
        raise
    try:
        yield run
    finally:
        drop(warehouse, run, table)


@contextmanager
def copying(warehouse: Warehouse, table: str, run: int, insert: str, params: dict) -> Iterator[int]:
    """Run ``insert`` (an INSERT ... SELECT into ``table``, one of ``TABLES``, under ``run``) for the
    ``with`` block; the copy is dropped after it, however it ends."""
    with filled(warehouse, table, run, lambda: warehouse.execute(insert + small_blocks(warehouse), params)):
        yield run


@contextmanager
def copied(warehouse: Warehouse, site_id: str, run: int, key: str, rows: str, params: dict) -> Iterator[int]:
    """The rows ``rows`` selects copied under ``run`` (as ``copy``) for the ``with`` block, then dropped."""
    with copying(warehouse, "mining_rows", run, _insert(key, rows), {**params, "site_id": site_id, "run": run}):
        yield run


def drop_stale(warehouse: Warehouse, before: int) -> int:
    """Drop the copies of runs begun before ``before`` (ns): a process stopped mid-run leaves its copy."""
    dropped = 0
    for table in TABLES:
        runs = warehouse.query(f"SELECT DISTINCT run FROM {table} WHERE run < {{before:UInt64}}", {"before": before})
        for row in runs:
            drop(warehouse, row["run"], table)
        dropped += len(runs)
    return dropped
