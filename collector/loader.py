"""Drains the spool into the warehouse in large batches, exactly once.

One loader runs per spool folder: a thread of ``basirat serve`` (embedded), or
the ``basirat loader`` process next to gunicorn collectors. Each pass reads up
to ``LOADER_BATCH_ROWS`` rows, drops message ids already loaded (client
re-sends, or a pass that inserted but crashed before its checkpoint), inserts
one statement, then moves the checkpoint. While the warehouse fails it backs
off, keeping every row in the spool. The loader also turns spooled requests
into warehouse rows (``records.build``), so that work stays off the HTTP path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from core import settings
from warehouse import WarehouseError
from warehouse.queries import events, quarantine

from . import records
from . import spool as spool_files
from .blocklist import Blocklist
from .metrics import METRICS

log = logging.getLogger("basirat.loader")
LOOKUP_CHARS = 150_000  # ClickHouse refuses queries over max_query_size (256 KiB by default)
PARALLEL_ROWS = 5_000  # a pass this large builds its rows in worker processes


def dedupe(warehouse, rows: list[dict]) -> list[dict]:
    """Rows whose (site, message id) is neither earlier in the batch nor loaded."""
    seen, fresh = set(), []
    for row in rows:
        key = (row["site_id"], row["message_id"])
        if key not in seen:
            seen.add(key)
            fresh.append(row)
    by_site: dict[str, list[str]] = {}
    for row in fresh:
        by_site.setdefault(row["site_id"], []).append(row["message_id"])
    known = {
        (site, mid)
        for site, ids in by_site.items()
        for chunk in _chunks(ids)
        for mid in events.known_message_ids(warehouse, site, chunk)
    }
    return [r for r in fresh if (r["site_id"], r["message_id"]) not in known]


def dedupe_columns(warehouse, columns: dict[str, list]) -> dict[str, list]:
    """``dedupe`` for a pass held as columns (``records.build``): the rows whose
    (site, message id) is neither earlier in the pass nor loaded."""
    keys = dict.fromkeys(zip(columns["site_id"], columns["message_id"]))
    sites = set(columns["site_id"])
    by_site: dict[str, list[str]] = {}
    if len(sites) == 1:  # most passes: one site's ids, gathered without a loop per row
        by_site[sites.pop()] = [mid for _, mid in keys]
    else:
        for site, mid in keys:
            by_site.setdefault(site, []).append(mid)
    known = {
        (site, mid)
        for site, ids in by_site.items()
        for chunk in _chunks(ids)
        for mid in events.known_message_ids(warehouse, site, chunk)
    }
    if not known and len(keys) == _count(columns):
        return columns
    first: dict[tuple[str, str], int] = {}
    for index, key in enumerate(zip(columns["site_id"], columns["message_id"])):
        first.setdefault(key, index)
    keep = [index for key, index in first.items() if key not in known]
    return {name: [values[i] for i in keep] for name, values in columns.items()}


def _count(columns: dict[str, list]) -> int:
    return len(columns["message_id"])


def _sliced(columns: dict[str, list], start: int, stop: int | None) -> dict[str, list]:
    return {name: values[start:stop] for name, values in columns.items()}


def _chunks(ids: list[str], max_chars: int = LOOKUP_CHARS):
    """Id lists small enough for a server's query size limit (ids are inlined by the driver)."""
    chunk, size = [], 0
    for mid in ids:
        if chunk and size + len(mid) + 4 > max_chars:
            yield chunk
            chunk, size = [], 0
        chunk.append(mid)
        size += len(mid) + 4
    if chunk:
        yield chunk


@contextlib.contextmanager
def _gc_paused():
    """No cyclic garbage collection during a pass.

    A pass reads tens of thousands of message dicts and builds lists for
    each of their rows, all alive until the insert. Python's cycle collector
    would walk them again and again while finding no cycles among them, a
    quarter of the pass; it runs again once the pass ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build_share(items: list[dict], config: dict):
    """A worker's share of a pass, with the cycle collector paused as in the loader's own passes."""
    with _gc_paused():
        return records.build(items, config)


class Loader:
    def __init__(
        self,
        warehouse,
        directory: str,
        batch_rows: int = 50000,
        interval: float = 1.0,
        max_backoff: float = 30.0,
        config: dict | None = None,
    ):
        self.warehouse = warehouse
        self.config = config or settings.load()
        self.max_backoff = max_backoff
        self.directory = directory
        self.batch_rows = batch_rows
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.blocklist = Blocklist(warehouse)
        workers = int(self.config.get("LOADER_WORKERS", 1))
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def load_once(self) -> int:
        """One pass: load what is spooled now (up to a batch). Returns rows inserted."""
        with self._lock, _gc_paused():
            positions = spool_files.read_checkpoint(self.directory)
            items, count, moved = [], 0, {}
            for name in spool_files.segments(self.directory):
                path, key = os.path.join(self.directory, name), spool_files.stem(name)
                start = positions.get(key, 0)
                got, end = spool_files.read_records(path, start, self.batch_rows - count, records.weight)
                items.extend(self._unblocked(got))
                count += sum(map(records.weight, got))
                moved[key] = end
                if name.endswith(".seg") and end < os.path.getsize(path) and not got:
                    log.warning(
                        "segment %s has %d unreadable bytes at its end (torn write); skipped",
                        name,
                        os.path.getsize(path) - end,
                    )
                    moved[key] = os.path.getsize(path)
                if count >= self.batch_rows:
                    break
            if not items and moved == {k: positions.get(k, 0) for k in moved}:
                self._forget_loaded(positions)
                return 0
            inserted = self._insert(*self._build(items, count))
            positions.update(moved)
            spool_files.write_checkpoint(self.directory, positions)
            self._forget_loaded(positions)
            return inserted

    def _unblocked(self, items: list[dict]) -> list[dict]:
        """Spooled messages of people erased since they were accepted are dropped
        here too; the list is read afresh for each pass that has rows."""
        if not items:
            return items
        self.blocklist.refresh()
        return [
            {**item, "messages": self.blocklist.kept(item["site_id"], item["messages"])}
            if item.get("_kind") == records.REQUEST
            else item
            for item in items
        ]

    def _build(self, items: list[dict], count: int) -> tuple[dict[str, list], list[dict]]:
        """The pass's rows (``records.build``), by the worker processes when the pass is large.

        Turning messages into rows is most of a pass; with ``LOADER_WORKERS``
        above 1 (0: one per core) worker processes each take a share of the
        requests. Starting them and passing columns back costs CPU, which pays
        only where the loader has idle cores (not beside busy collectors). The
        checkpoint moves only after the insert, so a worker that dies loses
        nothing: the pass fails, and the next one reads the same records.
        """
        if self.workers <= 1 or count < PARALLEL_ROWS or len(items) < 2:
            return records.build(items, self.config)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        size = -(-len(items) // self.workers)
        shares = [items[i : i + size] for i in range(0, len(items), size)]
        try:
            built = list(self._pool.map(_build_share, shares, [self.config] * len(shares)))
        except BrokenProcessPool:
            self._pool = None
            raise
        columns = {name: [v for part, _ in built for v in part[name]] for name in built[0][0]}
        return columns, [row for _, held in built for row in held]

    def _insert(self, columns: dict[str, list], held: list[dict]) -> int:
        """Events (deduplicated) and quarantined messages; both retried until they land."""
        started = time.monotonic()
        fresh = dedupe_columns(self.warehouse, columns)
        inserted = self._insert_events(fresh, held)
        if held:
            quarantine.insert_quarantined(self.warehouse, held)
        METRICS.observe_insert(time.monotonic() - started, inserted, _count(columns) - _count(fresh))
        return inserted

    def _insert_events(self, rows: dict[str, list], held: list[dict]) -> int:
        """Insert; when ClickHouse is up but refuses the batch, find the rows it refuses.

        Halves are retried (deduplicated again, in case part of a batch landed)
        down to single rows; a row refused on its own goes to ``held`` (the
        quarantine) as ``insert_failed``, so one bad row never stalls the spool.
        """
        try:
            return events.insert_event_columns(self.warehouse, rows) if _count(rows) else 0
        except Exception as exc:
            if not self._reachable():
                raise
            if _count(rows) == 1:
                log.warning("loader: ClickHouse refused a row (%s); quarantined", exc)
                METRICS.reject("insert_failed")
                row = {name: values[0] for name, values in rows.items()}
                received = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
                reason = f"{type(exc).__name__}: {exc}"[:500]
                held.append(records.held_row(row, "insert_failed", reason, row["site_id"], received, row["ip"], ""))
                return 0
        middle = _count(rows) // 2
        halves = (_sliced(rows, 0, middle), _sliced(rows, middle, None))
        return sum(self._insert_events(dedupe_columns(self.warehouse, half), held) for half in halves)

    def _reachable(self) -> bool:
        try:
            self.warehouse.query("SELECT 1 AS one")
            return True
        except Exception:
            return False

    def _forget_loaded(self, positions: dict[str, int]) -> None:
        """Delete closed segments that are fully loaded.

        Positions are kept by segment stem, so a segment renamed from
        ``.open`` to ``.seg`` by its writer keeps its place.
        """
        changed = False
        for key in list(positions):
            closed = os.path.join(self.directory, key + ".seg")
            if os.path.exists(closed):
                if positions[key] >= os.path.getsize(closed):
                    os.unlink(closed)
                    spool_files.forget_counts(self.directory, key)
                    del positions[key]
                    changed = True
            elif not os.path.exists(os.path.join(self.directory, key + ".open")):
                del positions[key]
                changed = True
        if changed:
            spool_files.write_checkpoint(self.directory, positions)

    def drain(self, timeout: float | None = 60.0, progress=None) -> int:
        """Load until nothing is left, or for at most ``timeout`` seconds.

        With ``timeout=None`` it stops at the first pass that loads nothing,
        even if bytes are left (a record still being written), so it always
        ends. ``progress(rows loaded so far, bytes left)`` is called after each
        pass that loaded rows.
        """
        total, deadline = 0, None if timeout is None else time.monotonic() + timeout
        while deadline is None or time.monotonic() < deadline:
            count = self.load_once()
            total += count
            if count and progress is not None:
                progress(total, self.pending_bytes())
            if count == 0 and (deadline is None or self.pending_bytes() == 0):
                break
        return total

    def pending_bytes(self) -> int:
        return spool_files.pending_bytes(self.directory)

    def run(self) -> None:
        backoff = self.interval
        while not self._stop.is_set():
            try:
                loaded = self.load_once()
                backoff = self.interval
                if loaded >= self.batch_rows:
                    self._persist_metrics()
                    continue
            except (WarehouseError, OSError) as exc:
                METRICS.count("loader_errors")
                log.warning("loader: %s; retrying in %.1fs", exc, backoff)
                backoff = min(backoff * 2, self.max_backoff)
            except Exception:  # the loop must outlive any one bad pass; the rows stay spooled
                METRICS.count("loader_errors")
                log.exception("loader: unexpected error; retrying in %.1fs", backoff)
                backoff = min(backoff * 2, self.max_backoff)
            self._persist_metrics()
            self._stop.wait(backoff)

    def _persist_metrics(self) -> None:
        try:
            METRICS.persist(self.directory)
        except OSError:
            pass

    def start(self) -> "Loader":
        self._thread = threading.Thread(target=self.run, name="spool-loader", daemon=True)
        self._thread.start()
        return self

    def stop(self, drain: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if drain:
            try:
                self.drain(timeout=30)
            except WarehouseError as exc:
                log.warning("loader: could not drain on stop (%s); rows stay spooled", exc)
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
