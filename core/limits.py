"""Per-site and per-client-IP rate limits: token buckets shared by a server's processes.

The collector (events) and the recommendation endpoint (answers) each keep a
table per kind of key.

Each key gets a bucket of ``rate`` requests a second that holds at most
``burst`` (one second's worth unless set). A rate of 0 turns a limit off.

The buckets live in a fixed table in shared memory, so the gunicorn workers
of one collector count against the same buckets and a client gets the
configured rate whatever the number of workers. ``share()`` creates the
tables in the gunicorn master before it forks (``on_starting``); a process
in which nothing was shared (``basirat serve``, tests) gets tables of its own.
(Moved from ``collector/limits.py``, which still names them for the collector.)

The table is set associative: a key hashes to a set of ``WAYS`` slots, and a
new key takes the set's fullest bucket (an unused or refilled one behaves as
new). Memory stays fixed however many clients there are. Threads of one
process take a lock; processes take none. Two workers spending a bucket's
last token in the same instant may both pass, a request or two over the
limit, but no worker ever waits on another, or on one that died holding a lock.
"""

from __future__ import annotations

import functools
import hashlib
import math
import mmap
import struct
import threading
import time

from .proxies import client_address

SLOT = struct.Struct("<Qdd")  # key hash (0: unused), tokens, monotonic time of the last update
WAYS = 4
SETS = 16384  # 65,536 slots, 1.5 MB a table

_shared: dict[str, mmap.mmap] = {}


def new_table() -> mmap.mmap:
    """Zeroed anonymous shared memory: visible to processes forked after it is made."""
    return mmap.mmap(-1, SETS * WAYS * SLOT.size, flags=mmap.MAP_SHARED)


def share(*names: str) -> None:
    """Create the named tables now, for this process and every process it forks."""
    for name in names:
        _shared.setdefault(name, new_table())


def table(name: str) -> mmap.mmap:
    """The shared table of that name if ``share()`` made one, else a table of this process's own."""
    return _shared.get(name) or new_table()


@functools.lru_cache(maxsize=8192)
def _key_hash(key: str) -> int:
    """A hash that is the same in every process (``hash()`` of a str is salted per interpreter).

    Cached: most requests come from clients and sites seen a moment ago."""
    digest = hashlib.blake2b(key.encode("utf-8", "backslashreplace"), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


class RateLimiter:
    def __init__(self, rate: float, burst: float | None = None, buckets: mmap.mmap | None = None):
        self.rate = float(rate)
        self.burst = float(burst if burst else max(rate, 1.0))
        self._table = buckets if buckets is not None else new_table()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when its bucket is empty."""
        if self.rate <= 0:
            return True
        hashed = _key_hash(key)
        base = (hashed % SETS) * WAYS * SLOT.size
        with self._lock:
            now = time.monotonic()
            offset, tokens, at = self._slot(hashed, base, now)
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            allowed = tokens >= 1.0
            SLOT.pack_into(self._table, offset, hashed, tokens - 1.0 if allowed else tokens, now)
        return allowed

    def _slot(self, hashed: int, base: int, now: float) -> tuple[int, float, float]:
        """(offset, tokens, last update) of the key's bucket; a new bucket in the set's fullest slot."""
        victim, fullest = base, -math.inf
        for offset in range(base, base + WAYS * SLOT.size, SLOT.size):
            key, tokens, at = SLOT.unpack_from(self._table, offset)
            if not (math.isfinite(tokens) and math.isfinite(at) and at <= now + 1.0):
                key, tokens, at = 0, self.burst, now  # torn by a concurrent write
            at = min(at, now)  # another process may have stamped it a moment after our clock read
            if key == hashed:
                return offset, tokens, at
            level = math.inf if key == 0 else tokens + (now - at) * self.rate
            if level > fullest:
                victim, fullest = offset, level
        return victim, self.burst, now

    def retry_after(self) -> int:
        return max(1, int(1 / self.rate + 0.999)) if self.rate > 0 else 1


def client_ip(environ: dict, config) -> str:
    """The client's address of a WSGI request: the right-most hop not of a trusted proxy (``core.proxies``)."""
    return client_address(environ.get("REMOTE_ADDR") or "", environ.get("HTTP_X_FORWARDED_FOR", ""), config)
