"""A local, durable spool between the HTTP answer and the warehouse.

An accepted request is appended to a segment file and fdatasync'd before the
collector answers 200, so a crash or a slow ClickHouse loses nothing that was
acknowledged. Concurrent requests of one process share each fdatasync (group
commit): a thread that finds a sync under way waits for it or for the next
one, so a disk that syncs in 2 ms still acknowledges thousands of requests a
second. Each writing process has its own segment (``<pid>-<ns>.open``),
renamed to ``.seg`` when it fills up or the writer stops. A record is
``length | crc32 | JSON rows``; a torn tail (a crash mid-write) fails its
checksum and is never read as data. The loader keeps its position per segment
in ``checkpoint.json`` and deletes a ``.seg`` once it is fully loaded.

An open segment is written with zeros ``ZEROED_BYTES`` ahead of its records,
and records overwrite them in place: a sync that does not grow the file has no
metadata to commit, so on ext4 it skips the journal and costs a quarter of an
appending one. The data ends at the first all-zero header (no record has
length 0); a segment is cut to its data when it is closed.

Disk use is measured by listing the folder at most every
``ACCOUNTING_SECONDS`` (and again when the limit seems reached), plus what this
process wrote since: several collector processes may overshoot the limit by
about one interval of writes, never by more.

One site may hold at most ``site_share`` of the limit while other sites have
events waiting (in the spool, or refused for room in the last
``WAITING_SECONDS``), so one site sending more than the loader can take cannot
make every other site's events answer 503. Each writer counts the bytes of
each site in its segment by stretches of about ``max_bytes / 256`` and keeps
the counts beside the segment (``sites/<segment>.json``, rewritten at most
every ``ACCOUNTING_SECONDS``, not synced: accounting, not data); a site's
share is the sum over the stretches the loader has not yet passed. A site
refused for room leaves a ``sites/waiting-<hash>`` file, so the writers of
other processes know it waits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import struct
import threading
import time
import zlib
from collections import Counter

import orjson

HEADER = struct.Struct("!II")
SEGMENT_BYTES = 32 << 20
ZEROED_BYTES = 256 << 10
_ZEROS = bytes(ZEROED_BYTES)
ACCOUNTING_SECONDS = 1.0
SITES_DIR = "sites"
WAITING_SECONDS = 30.0


class SpoolFull(Exception):
    """The spool has reached its disk limit (or the disk is full); retry later."""


def _json_default(value):
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    raise TypeError(type(value).__name__)


def encode(rows: list[dict]) -> bytes:
    """One record. orjson, because this runs inside every request; datetimes
    pass through ``_json_default`` so they read back as ClickHouse writes them."""
    payload = orjson.dumps(rows, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _loads(payload: bytes) -> list:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return json.loads(payload)  # records of older versions may hold NaN, which only json reads


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _site_tag(site: str) -> str:
    return hashlib.blake2b(site.encode("utf-8", "backslashreplace"), digest_size=8).hexdigest()


class Spool:
    def __init__(
        self, directory: str, max_bytes: int = 1 << 30, segment_bytes: int = SEGMENT_BYTES, site_share: float = 1.0
    ):
        self.directory = os.path.abspath(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.site_share = site_share
        self._stretch = max(4096, min(256 << 10, max_bytes // 256))
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        self._reset()

    def _reset(self) -> None:
        """Fresh per-process state (also after a fork: a child never shares a segment)."""
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._fd: int | None = None
        self._path: str | None = None
        self._size = 0  # end of this process's records in its segment
        self._zeroed = 0  # end of the zeros written ahead of them
        self._written = 0  # records written to the current process's segments
        self._synced = 0  # records known to be on disk
        self._syncing = False
        self.syncs = 0  # fdatasync calls, for tests and the benchmark
        self._used = 0
        self._refused = 0  # size of the last record refused for room, 0 after a success
        self._measured_at = -1e9
        self._checkpoint_seen: tuple[int, int] | None = None  # the loader's checkpoint as of the last measure
        # per-site accounting (only with site_share < 1)
        self._marks: list[list] = []  # [end offset, {site: bytes}] per stretch of this process's segment
        self._marks_saved_at = -1e9
        self._marks_dirty = False
        self._by_site: Counter = Counter()  # pending bytes per site, as last measured plus written since
        self._waiting: set[str] = set()  # tags of sites refused for room lately
        self._told_waiting: dict[str, float] = {}
        self._sidecars: dict[str, tuple[int, list]] = {}

    @property
    def shared(self) -> bool:
        """Whether sites are held to a share of the spool."""
        return self.site_share < 1.0

    # -- accounting -----------------------------------------------------------

    def used_bytes(self) -> int:
        """Spooled bytes not yet loaded, as of at most ``ACCOUNTING_SECONDS`` ago."""
        with self._cond:
            self._measure(ACCOUNTING_SECONDS)
            return self._used

    def has_room(self) -> bool:
        """Whether a request like the last refused one would now fit (health checks)."""
        with self._cond:
            self._measure(ACCOUNTING_SECONDS)
            if self._used + max(self._refused, 1) > self.max_bytes:
                self._measure_when_full()
            return self._used + max(self._refused, 1) <= self.max_bytes

    def site_bytes(self) -> dict[str, int]:
        """Spooled bytes not yet loaded, per site (only counted with ``site_share`` < 1)."""
        with self._cond:
            self._measure(ACCOUNTING_SECONDS)
            return dict(self._by_site)

    def _measure(self, max_age: float) -> None:
        if time.monotonic() - self._measured_at < max_age:
            return
        stamp = _checkpoint_stamp(self.directory)  # before measuring: a pass ending meanwhile is seen next time
        if not self.shared:
            self._used = pending_bytes(self.directory)
        else:
            own = stem(os.path.basename(self._path)) if self._path and self._pid == os.getpid() else None
            self._used, self._by_site = self._pending_by_site(own)
            self._waiting = self._read_waiting()
        self._measured_at = time.monotonic()
        self._checkpoint_seen = stamp

    def _measure_when_full(self) -> None:
        """Measure again when the spool seems full, since the loader may have freed room: at
        most every 50 ms, or at once when the loader has moved its checkpoint since the last
        measure (a fast pass can free the room well within 50 ms)."""
        self._measure(0 if _checkpoint_stamp(self.directory) != self._checkpoint_seen else 0.05)

    def _check_room(self, size: int, site: str | None) -> None:
        self._measure(ACCOUNTING_SECONDS)
        if self._used + size > self.max_bytes:
            self._measure_when_full()
            if self._used + size > self.max_bytes:
                self._refused = size
                if site and self.shared:
                    self._tell_waiting(site)
                raise SpoolFull(f"spool at {self.directory} is over its limit of {self.max_bytes} bytes")
        if site and self.shared and self._over_share(site, size):
            self._measure_when_full()
            if self._over_share(site, size):
                raise SpoolFull(
                    f"site {site} holds {self.site_share:.0%} of the spool while other sites wait; retry later"
                )

    def _over_share(self, site: str, size: int) -> bool:
        if self._by_site.get(site, 0) + size <= self.site_share * self.max_bytes:
            return False
        tag = _site_tag(site)
        return any(n > 0 for other, n in self._by_site.items() if other != site) or bool(self._waiting - {tag})

    # -- per-site accounting -------------------------------------------------------

    def _sites_dir(self) -> str:
        return os.path.join(self.directory, SITES_DIR)

    def _count(self, site: str, size: int) -> None:
        """Add a record of ``site`` ending at ``self._size`` to this segment's stretches."""
        start = self._marks[-2][0] if len(self._marks) > 1 else 0
        if not self._marks or self._marks[-1][0] - start >= self._stretch:
            self._marks.append([self._size, {}])
        mark = self._marks[-1]
        mark[0] = self._size
        mark[1][site] = mark[1].get(site, 0) + size
        self._by_site[site] += size
        self._marks_dirty = True
        if time.monotonic() - self._marks_saved_at >= ACCOUNTING_SECONDS:
            self._save_marks()

    def _save_marks(self) -> None:
        if not self._marks_dirty or not self._path:
            return
        folder = self._sites_dir()
        path = os.path.join(folder, stem(os.path.basename(self._path)) + ".json")
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            with open(os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
                fh.write(orjson.dumps(self._marks))
            os.replace(path + ".tmp", path)
        except OSError:
            return  # a full disk: the bytes still count in the spool's total
        self._marks_saved_at = time.monotonic()
        self._marks_dirty = False

    def _marks_of(self, key: str) -> list:
        path = os.path.join(self._sites_dir(), key + ".json")
        try:
            mtime = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            return []  # written by an older version, or not yet saved
        cached = self._sidecars.get(key)
        if cached is None or cached[0] != mtime:
            try:
                with open(path, "rb") as fh:
                    cached = (mtime, orjson.loads(fh.read()))
            except (OSError, orjson.JSONDecodeError):
                cached = (mtime, [])
            self._sidecars[key] = cached
        return cached[1]

    def _pending_by_site(self, own: str | None) -> tuple[int, Counter]:
        """(pending bytes, pending bytes per site): stretches the loader has not passed."""
        positions = read_checkpoint(self.directory)
        total, by_site, keys = 0, Counter(), set()
        for name in segment_names(self.directory):
            key = stem(name)
            keys.add(key)
            start = positions.get(key, 0)
            total += max(0, data_end(os.path.join(self.directory, name), start) - start)
            for end, counts in self._marks if key == own else self._marks_of(key):
                if end > start:
                    by_site.update(counts)
        for key in set(self._sidecars) - keys:
            del self._sidecars[key]
        return total, by_site

    def _read_waiting(self) -> set[str]:
        waiting, now = set(), time.time()
        try:
            names = os.listdir(self._sites_dir())
        except FileNotFoundError:
            return waiting
        for name in names:
            if not name.startswith("waiting-"):
                continue
            path = os.path.join(self._sites_dir(), name)
            try:
                age = now - os.stat(path).st_mtime
                if age <= WAITING_SECONDS:
                    waiting.add(name[len("waiting-") :])
                elif age > 10 * WAITING_SECONDS:
                    os.unlink(path)
            except FileNotFoundError:
                continue
        return waiting

    def _tell_waiting(self, site: str) -> None:
        """Let every writer know ``site`` was refused for room (at most once a second per site)."""
        tag = _site_tag(site)
        if time.monotonic() - self._told_waiting.get(tag, -1e9) < 1.0:
            return
        self._told_waiting[tag] = time.monotonic()
        self._waiting.add(tag)
        try:
            os.makedirs(self._sites_dir(), mode=0o700, exist_ok=True)
            path = os.path.join(self._sites_dir(), "waiting-" + tag)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            os.utime(path)
        except OSError:
            pass

    # -- writing --------------------------------------------------------------

    def append(self, rows: list[dict], site: str | None = None) -> None:
        """Write rows (of ``site``, if given) durably; returns only once they are on disk."""
        record = encode(rows)
        with self._cond:
            if self._pid != os.getpid():
                self._reset()
            self._check_room(len(record), site)
            if self._fd is None or self._size >= self.segment_bytes:
                self._rotate()
            self._write(record)
            if site and self.shared:
                self._count(site, len(record))
            self._written += 1
            self._used += len(record)
            self._refused = 0
            self._sync_through(self._written)

    def _write(self, record: bytes) -> None:
        end = self._size + len(record) + HEADER.size  # a zero header must follow the record
        if end > self._zeroed:
            self._zero_ahead(end)
        view, at = memoryview(record), self._size
        try:
            while view:
                done = os.pwrite(self._fd, view, at)
                view, at = view[done:], at + done
        except OSError as exc:  # the next record overwrites what part of this one got written
            raise SpoolFull(f"cannot write to the spool: {exc.strerror}") from None
        self._size += len(record)

    def _zero_ahead(self, end: int) -> None:
        """Grow the segment with zeros past ``end``: the one write here that can
        meet a full disk, and the one sync in ``ZEROED_BYTES`` that commits metadata."""
        start = self._zeroed
        try:
            while self._zeroed < end + ZEROED_BYTES:
                self._zeroed += os.pwrite(self._fd, _ZEROS, self._zeroed)
        except OSError as exc:
            os.ftruncate(self._fd, start)
            self._zeroed = start
            raise SpoolFull(f"cannot write to the spool: {exc.strerror}") from None

    def _sync_through(self, seq: int) -> None:
        """Wait until record ``seq`` is on disk, leading a sync if none is running.

        Called with the condition held; the fdatasync itself runs without it so
        other threads keep writing the records the next sync will cover.
        """
        while self._synced < seq:
            if self._syncing:
                self._cond.wait()
                continue
            self._syncing, target, fd = True, self._written, self._fd
            self.syncs += 1
            self._cond.release()
            try:
                os.fdatasync(fd)
            finally:
                self._cond.acquire()
                self._syncing = False
                self._cond.notify_all()
            self._synced = max(self._synced, target)

    def _rotate(self) -> None:
        self._close_segment()
        self._path = os.path.join(self.directory, f"{self._pid}-{time.time_ns()}.open")
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT, 0o600)
        self._size = self._zeroed = 0
        self._marks, self._marks_dirty = [], False
        _fsync_dir(self.directory)

    def _close_segment(self) -> None:
        while self._syncing:
            self._cond.wait()
        if self._fd is not None:
            self._save_marks()
            os.ftruncate(self._fd, self._size)
            os.fsync(self._fd)
            self._synced = self._written
            os.close(self._fd)
            os.rename(self._path, self._path[: -len(".open")] + ".seg")
            _fsync_dir(self.directory)
        self._fd = self._path = None

    def close(self) -> None:
        """Flush and close this process's segment (graceful shutdown)."""
        with self._cond:
            if self._pid == os.getpid():
                self._close_segment()


# -- reading (the loader's side) -------------------------------------------------


def stem(name: str) -> str:
    """A segment's name without ``.open``/``.seg``: its key in the checkpoint."""
    return name.rsplit(".", 1)[0]


def _checkpoint_stamp(directory: str) -> tuple[int, int] | None:
    """Which checkpoint the loader last wrote, file and time (one stat; None before its first pass)."""
    try:
        stat = os.stat(os.path.join(directory, "checkpoint.json"))
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def read_checkpoint(directory: str) -> dict[str, int]:
    """Loaded bytes per segment stem."""
    try:
        with open(os.path.join(directory, "checkpoint.json")) as fh:
            saved = json.load(fh)
    except (FileNotFoundError, ValueError):
        return {}
    positions: dict[str, int] = {}
    for name, offset in saved.items():
        positions[stem(name)] = max(positions.get(stem(name), 0), int(offset))
    return positions


def forget_counts(directory: str, key: str) -> None:
    """Drop the per-site counts of a segment that is gone (fully loaded)."""
    try:
        os.unlink(os.path.join(directory, SITES_DIR, key + ".json"))
    except FileNotFoundError:
        pass


def write_checkpoint(directory: str, positions: dict[str, int]) -> None:
    path = os.path.join(directory, "checkpoint.json")
    with open(path + ".tmp", "w") as fh:
        json.dump(positions, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(path + ".tmp", path)
    _fsync_dir(directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _order(name: str) -> int:
    return int(name.split("-", 1)[1].split(".")[0])


def segment_names(directory: str) -> list[str]:
    """Segments in write order, without touching them."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted((n for n in names if n.endswith((".seg", ".open"))), key=_order)


def segments(directory: str) -> list[str]:
    """Segments in write order; an ``.open`` left by a dead writer is closed here."""
    names = []
    for name in segment_names(directory):
        if name.endswith(".open"):
            pid = int(name.split("-", 1)[0])
            if pid != os.getpid() and not _alive(pid):
                closed = name[: -len(".open")] + ".seg"
                path = os.path.join(directory, name)
                with open(path, "r+b") as fh:
                    fh.truncate(data_end(path))
                    os.fsync(fh.fileno())
                os.rename(path, os.path.join(directory, closed))
                _fsync_dir(directory)
                name = closed
        names.append(name)
    return sorted(names, key=_order)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def data_end(path: str, offset: int = 0) -> int:
    """Where the records of a segment end: its size once closed; in an open
    one, the first all-zero header after ``offset`` (a record boundary)."""
    if not path.endswith(".open"):
        return _size(path)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            while offset + HEADER.size <= size:
                fh.seek(offset)
                length, _ = HEADER.unpack(fh.read(HEADER.size))
                if length == 0:
                    break
                offset += HEADER.size + length
    except FileNotFoundError:  # closed since it was listed: cut to its records
        return _size(path[: -len(".open")] + ".seg")
    return min(offset, size)


def pending_bytes(directory: str) -> int:
    """Bytes spooled and not yet loaded."""
    positions = read_checkpoint(directory)
    total = 0
    for name in segment_names(directory):
        start = positions.get(stem(name), 0)
        total += max(0, data_end(os.path.join(directory, name), start) - start)
    return total


def oldest_pending_age(directory: str, now: dt.datetime | None = None) -> float:
    """Seconds since the oldest unloaded row was received (the loader's lag); 0 when drained."""
    positions = read_checkpoint(directory)
    for name in segment_names(directory):
        path = os.path.join(directory, name)
        start = positions.get(stem(name), 0)
        if _size(path) <= start:
            continue
        try:
            rows, _ = read_records(path, start, 1)
        except FileNotFoundError:
            continue
        stamps = [r.get("received_at") for r in rows if isinstance(r, dict) and r.get("received_at")]
        if stamps:
            received = dt.datetime.fromisoformat(min(stamps))
            now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            return max(0.0, (now - received).total_seconds())
    return 0.0


def current(path: str) -> str:
    """A segment's path now: an ``.open`` one its writer has since closed is the ``.seg`` of its
    stem, with the same records at the same offsets."""
    if path.endswith(".open") and not os.path.exists(path):
        return path[: -len(".open")] + ".seg"
    return path


def _payloads(fh, offset: int):
    """Each whole record's payload from ``offset``, with where the record ends.

    Stops at a torn or partial tail (a short read or a checksum that does not
    match) and at the zeros ahead of an open segment's records.
    """
    fh.seek(offset)
    while True:
        header = fh.read(HEADER.size)
        if len(header) < HEADER.size:
            return
        length, crc = HEADER.unpack(header)
        if length == 0:
            return
        payload = fh.read(length)
        if len(payload) < length or zlib.crc32(payload) != crc:
            return
        offset += HEADER.size + length
        yield payload, offset


def read_records(
    path: str, offset: int, max_rows: int, weight=lambda item: 1, end: int | None = None
) -> tuple[list[dict], int]:
    """Items from ``offset`` up to about ``max_rows`` (as counted by ``weight``) or to ``end``;
    stops at a torn or partial tail."""
    rows: list[dict] = []
    counted = 0
    if max_rows <= 0 or (end is not None and offset >= end):
        return rows, offset
    reached = offset
    with open(path, "rb") as fh:
        for payload, reached in _payloads(fh, offset):
            items = _loads(payload)
            rows.extend(items)
            counted += sum(weight(item) for item in items)
            if counted >= max_rows or (end is not None and reached >= end):
                break
    return rows, reached


def record_ends(path: str, offset: int, max_bytes: int) -> list[int]:
    """Where each whole record from ``offset`` ends, up to about ``max_bytes`` of them.

    The records are checked as ``read_records`` checks them (length and
    checksum) but not parsed: the loader cuts a pass into shares at these
    boundaries, and each of its processes parses its own.
    """
    ends: list[int] = []
    if max_bytes <= 0:
        return ends
    with open(path, "rb") as fh:
        for _, end in _payloads(fh, offset):
            ends.append(end)
            if end - offset >= max_bytes:
                break
    return ends
