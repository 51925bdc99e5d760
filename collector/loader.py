"""Drains the spool into the warehouse in large batches, exactly once.

One loader runs per spool folder: a thread of ``basirat serve`` (embedded), or
the ``basirat loader`` process next to gunicorn collectors. Each pass reads up
to ``LOADER_BATCH_ROWS`` rows, drops message ids already loaded (client
re-sends, or a pass that inserted but crashed before its checkpoint), inserts
them, then moves the checkpoint. While the warehouse fails it backs
off, keeping every row in the spool. The loader also turns spooled requests
into warehouse rows (``records.build``), so that work stays off the HTTP path.

Building rows is most of a pass, and a loader process builds on one core.
Over a ClickHouse server a backlog is loaded by ``LOADER_WORKERS`` processes
(one per core by default): each pass is cut into shares at record
boundaries, and each worker reads, builds and inserts a share. They take
turns for the dedup lookup and the insert (a lock file in the spool folder),
so a message re-sent into two shares still loads once, and the next pass is
handed out before the last is in, so one worker builds while another
inserts. The checkpoint moves past a pass once every share of it is in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from core import settings
from core.settings import clickhouse_settings
from warehouse import WarehouseError
from warehouse.queries import events, quarantine

from . import records
from . import spool as spool_files
from .blocklist import Blocklist
from .metrics import METRICS

log = logging.getLogger("basirat.loader")
PARALLEL_ROWS = 5_000  # a pass this large goes to the worker processes
ROW_BYTES = 500  # about what a spooled message takes: a pass of worker shares is measured in bytes
INSERT_LOCK = "insert.lock"
BACKLOG_SECONDS = 10.0


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
    known = _loaded(warehouse, by_site)
    return [r for r in fresh if (r["site_id"], r["message_id"]) not in known]


def _loaded(warehouse, by_site: dict[str, list[str]], since=None) -> set[tuple[str, str]]:
    """The (site, message id) pairs of ``by_site`` already loaded; with ``since`` (a receive
    time), also those found among the events received since then (``dedupe_columns``)."""
    known: set[tuple[str, str]] = set()
    for site, ids in by_site.items():
        known.update((site, mid) for mid in events.known_message_ids(warehouse, site, ids))
        if since is not None:
            known.update((site, mid) for mid in events.loaded_since(warehouse, site, ids, since))
    return known


def dedupe_columns(warehouse, columns: dict[str, list], recheck: bool = False) -> dict[str, list]:
    """``dedupe`` for a pass held as columns (``records.build``): the rows whose
    (site, message id) is neither earlier in the pass nor loaded.

    With ``recheck`` the ids are also looked for among the events themselves
    (``events.loaded_since`` the pass's earliest receive time): the first pass
    after a start or a failure may be one a killed process inserted without
    its ids reaching ``event_ids``."""
    keys = dict.fromkeys(zip(columns["site_id"], columns["message_id"]))
    sites = set(columns["site_id"])
    by_site: dict[str, list[str]] = {}
    if len(sites) == 1:  # most passes: one site's ids, gathered without a loop per row
        by_site[sites.pop()] = [mid for _, mid in keys]
    else:
        for site, mid in keys:
            by_site.setdefault(site, []).append(mid)
    known = _loaded(warehouse, by_site, min(columns["received_at"]) if recheck and by_site else None)
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


@contextlib.contextmanager
def _insert_turn(directory: str):
    """One process at a time looks up loaded ids and inserts: between the two
    no other share may land, or a message in both would load twice. A lock
    file, which the kernel releases when a process holding it dies."""
    with open(os.path.join(directory, INSERT_LOCK), "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def insert_pass(warehouse, columns: dict[str, list], held: list[dict], recheck: bool = False) -> int:
    """Events (deduplicated; ``recheck`` as in ``dedupe_columns``) and quarantined messages;
    returns the events inserted."""
    started = time.monotonic()
    fresh = dedupe_columns(warehouse, columns, recheck)
    inserted = _insert_events(warehouse, fresh, held)
    if held:
        quarantine.insert_quarantined(warehouse, held)
    METRICS.observe_insert(time.monotonic() - started, inserted, _count(columns) - _count(fresh))
    return inserted


def _insert_events(warehouse, rows: dict[str, list], held: list[dict]) -> int:
    """Insert; when ClickHouse is up but refuses the batch, find the rows it refuses.

    Halves are retried (deduplicated again, in case part of a batch landed)
    down to single rows; a row refused on its own goes to ``held`` (the
    quarantine) as ``insert_failed``, so one bad row never stalls the spool.
    """
    try:
        return events.insert_event_columns(warehouse, rows) if _count(rows) else 0
    except Exception as exc:
        if not _reachable(warehouse):
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
    return sum(_insert_events(warehouse, dedupe_columns(warehouse, half, recheck=True), held) for half in halves)


def _reachable(warehouse) -> bool:
    try:
        warehouse.query("SELECT 1 AS one")
        return True
    except Exception:
        return False


def unblocked(blocklist: Blocklist, items: list[dict]) -> list[dict]:
    """Spooled messages of people erased since they were accepted are dropped
    here too; the list is read afresh for each pass that has rows."""
    if not items:
        return items
    blocklist.refresh()
    return [
        {**item, "messages": blocklist.kept(item["site_id"], item["messages"])}
        if item.get("_kind") == records.REQUEST
        else item
        for item in items
    ]


# -- worker processes ----------------------------------------------------------

_WORKER: dict = {}


def _start_worker(url: str, cluster: str, settings_: dict) -> None:
    """Where a worker will connect; it does at its first task, so a warehouse that is
    down fails that task with the warehouse's error rather than breaking the pool.
    Ctrl-C, which reaches the whole process group, is the loader's to handle: it shuts
    its workers down. (A stop signal is not ignored: a broken pool ends its workers with it.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER.update(url=url, cluster=cluster, settings=settings_)


def _worker_warehouse():
    if "warehouse" not in _WORKER:
        from warehouse import connect

        warehouse = connect(_WORKER["url"], _WORKER["cluster"], _WORKER["settings"])
        _WORKER.update(warehouse=warehouse, blocklist=Blocklist(warehouse))
    return _WORKER["warehouse"]


def _ready() -> None:
    """A first task for a worker just started: it connects."""
    _worker_warehouse()


def _load_share(
    directory: str, spans: list[tuple[str, int, int]], config: dict, batch_rows: int, recheck: bool = False
) -> int:
    """A worker's share of a pass: its records read, built and inserted; returns the events inserted.

    Its inserts hold at most ``batch_rows`` rows each, as the loader's own do (``recheck``: as in
    ``dedupe_columns``).
    """
    warehouse = _worker_warehouse()
    with _gc_paused():
        items = []
        for path, start, end in spans:
            got, reached = spool_files.read_records(spool_files.current(path), start, end - start, end=end)
            if reached != end:
                raise OSError(f"spool segment {path} could not be read from {start} to {end} (stopped at {reached})")
            items.extend(got)
        columns, held = records.build(unblocked(_WORKER["blocklist"], items), config)
        inserted = 0
        with _insert_turn(directory):
            for start in range(0, max(_count(columns), 1), batch_rows):
                part = _sliced(columns, start, start + batch_rows)
                inserted += insert_pass(warehouse, part, held if start == 0 else [], recheck)
    with contextlib.suppress(OSError):
        METRICS.persist(directory, force=True)
    return inserted


def _shares(records_: list[tuple[str, int, int]], count: int) -> list[list[tuple[str, int, int]]]:
    """Records ``(path, start, end)`` in ``count`` runs of about equal bytes, each run's
    neighbouring records of one segment joined into one span."""
    total = sum(end - start for _, start, end in records_) or 1
    shares: list[list[tuple[str, int, int]]] = [[] for _ in range(count)]
    done = 0
    for path, start, end in records_:
        share = shares[min(count - 1, (done + (end - start) // 2) * count // total)]
        if share and share[-1][0] == path and share[-1][2] == start:
            share[-1] = (path, share[-1][1], end)
        else:
            share.append((path, start, end))
        done += end - start
    return [share for share in shares if share]


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
        workers = int(self.config.get("LOADER_WORKERS", 0))
        workers = workers if workers > 0 else (os.cpu_count() or 1)
        # Worker processes open the warehouse themselves: a server, never an embedded folder (one process owns it).
        self.workers = workers if str(getattr(warehouse, "url", "")).startswith("clickhouse") else 1
        self._pool: ProcessPoolExecutor | None = None
        self._recheck = True  # the first pass may be one a killed process inserted (``dedupe_columns``)

    def load_once(self) -> int:
        """One pass: load what is spooled now (up to a batch). Returns rows inserted.

        The first pass after the loader starts, and after a pass that failed, also looks
        for its ids among the events themselves (``dedupe_columns``' recheck).
        """
        try:
            inserted = self._load_once()
        except BaseException:
            self._recheck = True
            raise
        self._recheck = False
        return inserted

    def _load_once(self) -> int:
        with self._lock, _gc_paused():
            positions = spool_files.read_checkpoint(self.directory)
            if self.workers > 1 and spool_files.pending_bytes(self.directory) >= PARALLEL_ROWS * ROW_BYTES:
                return self._load_in_workers(positions)
            items, count, moved = [], 0, {}
            for name in spool_files.segments(self.directory):
                path, key = os.path.join(self.directory, name), spool_files.stem(name)
                start = positions.get(key, 0)
                got, end = spool_files.read_records(path, start, self.batch_rows - count, records.weight)
                items.extend(unblocked(self.blocklist, got))
                count += sum(map(records.weight, got))
                moved[key] = self._past_torn_tail(name, path, end, bool(got))
                if count >= self.batch_rows:
                    break
            if not items and moved == {k: positions.get(k, 0) for k in moved}:
                self._forget_loaded(positions)
                return 0
            inserted = insert_pass(self.warehouse, *records.build(items, self.config), recheck=self._recheck)
            return self._moved(positions, moved, inserted)

    def _load_in_workers(self, positions: dict[str, int]) -> int:
        """Passes of about ``batch_rows`` rows' bytes, read, built and inserted by the worker
        processes, back to back while the spool holds more (starting none after
        ``BACKLOG_SECONDS``, so a running loader still saves its metrics and sees a stop);
        returns the rows inserted.

        The next pass's shares are handed out before the last pass is in, so a worker
        builds its next share while another takes its turn to insert; the checkpoint
        moves past a pass once all its shares are in, and the passes in order.
        """
        ahead, inserted, passes = dict(positions), 0, []  # the passes in flight: (futures, moved)
        pool, until = self.start_workers(), time.monotonic() + BACKLOG_SECONDS
        try:
            more = True
            while more:
                found, moved, full = self._worker_pass(ahead)
                more = full and time.monotonic() < until
                shares = _shares(found, self.workers)
                futures = [
                    pool.submit(_load_share, self.directory, share, self.config, self.batch_rows, self._recheck)
                    for share in shares
                ]
                passes.append((futures, moved))
                ahead.update(moved)
                while len(passes) > (1 if more else 0):
                    futures, landed = passes[0]
                    inserted += self._moved(positions, landed, sum(future.result() for future in futures))
                    passes.pop(0)
                    self._recheck = False
            return inserted
        except BrokenProcessPool:
            self._close_pool(wait=False)
            raise
        finally:
            # After a failed pass, what is still running ends before any next pass reads the spool.
            wait([future for futures, _ in passes for future in futures])

    def _worker_pass(self, positions: dict[str, int]) -> tuple[list[tuple[str, int, int]], dict[str, int], bool]:
        """The records ``(path, start, end)`` of the next pass from ``positions``, where each
        segment's part ends, and whether the pass is full (more may be spooled)."""
        found, moved, budget = [], {}, self.batch_rows * ROW_BYTES
        for name in spool_files.segments(self.directory):
            path, key = os.path.join(self.directory, name), spool_files.stem(name)
            start = positions.get(key, 0)
            ends = spool_files.record_ends(path, start, budget)
            found += [(path, begin, end) for begin, end in zip([start, *ends], ends)]
            budget -= (ends[-1] - start) if ends else 0
            moved[key] = self._past_torn_tail(name, path, ends[-1] if ends else start, bool(ends))
            if budget <= 0:
                break
        return found, moved, budget <= 0

    def start_workers(self) -> ProcessPoolExecutor | None:
        """The worker processes, started (None without workers).

        Started once, when the loader starts or at its first large pass: an
        interpreter with the warehouse driver takes about a second to start.
        Each connects at its first task; a warehouse that is down fails those
        tasks (its error is raised here) and the workers stay, to connect at
        a later one.
        """
        if self.workers <= 1:
            return None
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.warehouse.url, getattr(self.warehouse, "cluster", ""), clickhouse_settings(self.config)),
            )
            try:
                for future in [self._pool.submit(_ready) for _ in range(self.workers)]:
                    future.result()
            except BrokenProcessPool:
                self._close_pool(wait=False)
                raise
        return self._pool

    def _close_pool(self, wait: bool) -> None:
        """End the worker processes (a broken pool's are gone already: no waiting for them)."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None

    def _past_torn_tail(self, name: str, path: str, end: int, read: bool) -> int:
        """Where a segment's pass ends: a closed segment whose tail cannot be read is skipped to its end."""
        if name.endswith(".seg") and not read and end < os.path.getsize(path):
            log.warning(
                "segment %s has %d unreadable bytes at its end (torn write); skipped",
                name,
                os.path.getsize(path) - end,
            )
            return os.path.getsize(path)
        return end

    def _moved(self, positions: dict[str, int], moved: dict[str, int], inserted: int) -> int:
        positions.update(moved)
        spool_files.write_checkpoint(self.directory, positions)
        self._forget_loaded(positions)
        return inserted

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
        with contextlib.suppress(Exception):  # workers that fail to start are started again by the first pass
            self.start_workers()
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
        self._close_pool(wait=True)
