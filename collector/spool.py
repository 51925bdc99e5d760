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
"""

from __future__ import annotations

import datetime as dt
import json
import os
import struct
import threading
import time
import zlib

import orjson

HEADER = struct.Struct("!II")
SEGMENT_BYTES = 32 << 20
ZEROED_BYTES = 256 << 10
_ZEROS = bytes(ZEROED_BYTES)
ACCOUNTING_SECONDS = 1.0


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


class Spool:
    def __init__(self, directory: str, max_bytes: int = 1 << 30, segment_bytes: int = SEGMENT_BYTES):
        self.directory = os.path.abspath(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        os.makedirs(self.directory, exist_ok=True)
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
                self._measure(0.05)  # the loader may have freed room since
            return self._used + max(self._refused, 1) <= self.max_bytes

    def _measure(self, max_age: float) -> None:
        if time.monotonic() - self._measured_at >= max_age:
            self._used = pending_bytes(self.directory)
            self._measured_at = time.monotonic()

    def _check_room(self, size: int) -> None:
        self._measure(ACCOUNTING_SECONDS)
        if self._used + size > self.max_bytes:
            self._measure(0.05)  # the loader may have freed room since
            if self._used + size > self.max_bytes:
                self._refused = size
                raise SpoolFull(f"spool at {self.directory} is over its limit of {self.max_bytes} bytes")

    # -- writing --------------------------------------------------------------

    def append(self, rows: list[dict]) -> None:
        """Write rows durably; returns only once they are on disk."""
        record = encode(rows)
        with self._cond:
            if self._pid != os.getpid():
                self._reset()
            self._check_room(len(record))
            if self._fd is None or self._size >= self.segment_bytes:
                self._rotate()
            self._write(record)
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
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT, 0o644)
        self._size = self._zeroed = 0
        _fsync_dir(self.directory)

    def _close_segment(self) -> None:
        while self._syncing:
            self._cond.wait()
        if self._fd is not None:
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


def read_records(path: str, offset: int, max_rows: int, weight=lambda item: 1) -> tuple[list[dict], int]:
    """Items from ``offset`` up to about ``max_rows`` (as counted by ``weight``); stops at a torn or partial tail."""
    rows: list[dict] = []
    counted = 0
    with open(path, "rb") as fh:
        fh.seek(offset)
        while counted < max_rows:
            header = fh.read(HEADER.size)
            if len(header) < HEADER.size:
                break
            length, crc = HEADER.unpack(header)
            if length == 0:  # the zeros ahead of an open segment's records
                break
            payload = fh.read(length)
            if len(payload) < length or zlib.crc32(payload) != crc:
                break
            items = _loads(payload)
            rows.extend(items)
            counted += sum(weight(item) for item in items)
            offset += HEADER.size + length
    return rows, offset
