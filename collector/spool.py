"""A local, durable spool between the HTTP answer and the warehouse.

An accepted request is appended to a segment file and fsync'd before the
collector answers 200, so a crash or a slow ClickHouse loses nothing that was
acknowledged. Each writing process has its own segment (``<pid>-<ns>.open``),
renamed to ``.seg`` when it fills up or the writer stops. A record is
``length | crc32 | JSON rows``; a torn tail (a crash mid-write) fails its
checksum and is never read as data. The loader keeps its position per segment
in ``checkpoint.json`` and deletes a ``.seg`` once it is fully loaded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import struct
import threading
import time
import zlib

HEADER = struct.Struct("!II")
SEGMENT_BYTES = 32 << 20


class SpoolFull(Exception):
    """The spool has reached its disk limit; the client should retry later."""


def _json_default(value):
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    raise TypeError(type(value).__name__)


def encode(rows: list[dict]) -> bytes:
    payload = json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode()
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


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
        self._lock = threading.Lock()
        self._file = None
        self._path = None
        self._pid = None

    # -- writing --------------------------------------------------------------

    def used_bytes(self) -> int:
        total = 0
        for name in os.listdir(self.directory):
            if name.endswith((".seg", ".open")):
                try:
                    total += os.path.getsize(os.path.join(self.directory, name))
                except FileNotFoundError:
                    pass
        return total - self._loaded_bytes()

    def _loaded_bytes(self) -> int:
        return sum(read_checkpoint(self.directory).values())

    def append(self, rows: list[dict]) -> None:
        """Write rows durably; returns only once they are on disk."""
        record = encode(rows)
        with self._lock:
            if self.used_bytes() + len(record) > self.max_bytes:
                raise SpoolFull(f"spool at {self.directory} is over its limit of {self.max_bytes} bytes")
            if self._file is None or self._pid != os.getpid() or self._file.tell() >= self.segment_bytes:
                self._rotate()
            self._file.write(record)
            self._file.flush()
            os.fdatasync(self._file.fileno())

    def _rotate(self) -> None:
        self._close_segment()
        self._pid = os.getpid()
        self._path = os.path.join(self.directory, f"{self._pid}-{time.time_ns()}.open")
        self._file = open(self._path, "ab")
        _fsync_dir(self.directory)

    def _close_segment(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
            os.rename(self._path, self._path[: -len(".open")] + ".seg")
            _fsync_dir(self.directory)
        self._file = self._path = None

    def close(self) -> None:
        with self._lock:
            self._close_segment()


# -- reading (the loader's side) -------------------------------------------------


def read_checkpoint(directory: str) -> dict[str, int]:
    try:
        with open(os.path.join(directory, "checkpoint.json")) as fh:
            return json.load(fh)
    except (FileNotFoundError, ValueError):
        return {}


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


def segments(directory: str) -> list[str]:
    """Segments in write order; an ``.open`` left by a dead writer is closed here."""
    names = []
    for name in os.listdir(directory):
        if name.endswith(".open"):
            pid = int(name.split("-", 1)[0])
            if pid != os.getpid() and not _alive(pid):
                closed = name[: -len(".open")] + ".seg"
                os.rename(os.path.join(directory, name), os.path.join(directory, closed))
                name = closed
        if name.endswith((".seg", ".open")):
            names.append(name)
    return sorted(names, key=lambda n: int(n.split("-", 1)[1].split(".")[0]))


def read_records(path: str, offset: int, max_rows: int) -> tuple[list[dict], int]:
    """Rows from ``offset`` up to about ``max_rows``; stops at a torn or partial tail."""
    rows: list[dict] = []
    with open(path, "rb") as fh:
        fh.seek(offset)
        while len(rows) < max_rows:
            header = fh.read(HEADER.size)
            if len(header) < HEADER.size:
                break
            length, crc = HEADER.unpack(header)
            payload = fh.read(length)
            if len(payload) < length or zlib.crc32(payload) != crc:
                break
            rows.extend(json.loads(payload))
            offset += HEADER.size + length
    return rows, offset
