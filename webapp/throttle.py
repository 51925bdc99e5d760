"""Sign-in throttling: counted before the password is checked, shared by the admin's workers.

Two counts decide whether an attempt may go ahead:

- per email *and* address: ``per_account`` attempts, then each further one
  waits, the wait doubling from ``base_delay`` up to ``window``. Someone
  guessing from elsewhere never delays the owner's own sign-in from their
  address: the owner is slowed, not locked out.
- per address, over every email: at most ``per_ip`` attempts in a ``window``,
  so one address cannot walk a list of accounts.

An attempt is counted when it begins (``begin``), before the password is
verified, so concurrent guesses cannot all pass the check before any of them
is counted. A success (``succeeded``) clears its email and address count and
gives its attempt back to the address.

The counts live in a fixed table (``SETS`` × ``WAYS`` slots, 1 MB), so memory
does not grow with the number of emails tried; a new key takes a free or
expired slot of its set, else the one with the fewest attempts. Keys are
hashed with a random key of the table's own, so nobody can aim many keys at
one set. ``share()`` makes the table in the gunicorn master before it forks
(``basirat.gunicorn_conf``), so the admin's workers count together; a process
in which nothing was shared (``basirat serve``, tests) has a table of its own.
The table is a file mapped into memory, locked with ``lockf`` around each
update (a lock the kernel drops if a worker dies holding it) and by a thread
lock within a process.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import secrets
import struct
import tempfile
import threading
import time
import weakref

SLOT = struct.Struct("<Qddd")  # key hash (0: unused), attempts, time of the last counted one, refused until
WAYS = 4
SETS = 8192  # 32,768 slots, 1 MB
HEADER = 64  # the table's hash key, then zeros


class Table:
    """The slots and the lock that guards them, in memory that forked processes share."""

    def __init__(self):
        self._fd, path = tempfile.mkstemp(prefix="basirat-throttle-")
        os.unlink(path)  # only the open descriptor, which forked processes inherit, reaches it
        weakref.finalize(self, os.close, self._fd)
        size = HEADER + SETS * WAYS * SLOT.size
        os.ftruncate(self._fd, size)
        self.memory = mmap.mmap(self._fd, size, flags=mmap.MAP_SHARED)
        self.memory[:16] = secrets.token_bytes(16)
        self._thread_lock = threading.Lock()

    def __enter__(self):
        self._thread_lock.acquire()
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *exc):
        fcntl.lockf(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def after_fork(self) -> None:
        """A fresh thread lock in a child (a thread of the parent may have held the old one)."""
        self._thread_lock = threading.Lock()

    def key_hash(self, key: str) -> int:
        digest = hashlib.blake2b(key.encode("utf-8", "backslashreplace"), digest_size=8, key=self.memory[:16])
        return int.from_bytes(digest.digest(), "little") or 1


_shared: Table | None = None


def share() -> None:
    """Make the table now, for this process and every process it forks."""
    global _shared
    if _shared is None:
        _shared = Table()
        os.register_at_fork(after_in_child=_shared.after_fork)


class Throttle:
    def __init__(
        self,
        per_account: int = 5,
        per_ip: int = 20,
        window: float = 900.0,
        clock=time.monotonic,
        base_delay: float = 30.0,
        table: Table | None = None,
    ):
        self.per_account, self.per_ip = per_account, per_ip
        self.window, self.base_delay = window, base_delay
        self.clock = clock
        self.table = table or _shared or Table()

    # -- what the sign-in page calls ----------------------------------------------

    def begin(self, account: str, ip: str) -> int:
        """Count an attempt about to be checked: 0 to go ahead, else seconds to wait (not counted)."""
        with self.table:
            now = self.clock()
            by_ip, by_account = self._slot("ip", ip, now), self._slot("account", f"{account}\0{ip}", now)
            wait = max(self._wait_ip(by_ip, now), self._wait_account(by_account, now))
            if wait > 0:
                return int(math.ceil(wait))
            self._count(by_ip, now, None)
            # looked up again: a new key may have taken the slot the address just took
            self._count(self._slot("account", f"{account}\0{ip}", now), now, self._delay)
        return 0

    def succeeded(self, account: str, ip: str) -> None:
        """The password was right: forget the email's attempts from there, give the address its attempt back."""
        with self.table:
            now = self.clock()
            offset, hashed, count, last, until = self._slot("account", f"{account}\0{ip}", now)
            if count or until:  # else a new slot: nothing to forget, and no one to evict
                SLOT.pack_into(self.table.memory, offset, hashed, 0.0, last, 0.0)
            offset, hashed, count, last, until = self._slot("ip", ip, now)
            if count:
                SLOT.pack_into(self.table.memory, offset, hashed, count - 1, last, until)

    # -- for checks and tests -------------------------------------------------------

    def failed(self, account: str, ip: str) -> None:
        """Count a failed attempt that did not go through ``begin``."""
        with self.table:
            now = self.clock()
            self._count(self._slot("ip", ip, now), now, None)
            self._count(self._slot("account", f"{account}\0{ip}", now), now, self._delay)

    def retry_after(self, account: str, ip: str) -> int:
        """Seconds until an attempt would be allowed; 0 when allowed now. Counts nothing."""
        with self.table:
            now = self.clock()
            by_ip, by_account = self._slot("ip", ip, now), self._slot("account", f"{account}\0{ip}", now)
            wait = max(self._wait_ip(by_ip, now), self._wait_account(by_account, now))
        return int(math.ceil(wait)) if wait > 0 else 0

    # -- the table ----------------------------------------------------------------

    def _delay(self, count: float) -> float:
        """The wait after the ``count``-th attempt of one email from one address."""
        over = int(count) - self.per_account
        return 0.0 if over < 0 else min(self.window, self.base_delay * 2 ** min(over, 30))

    def _wait_ip(self, slot, now: float) -> float:
        _, _, count, last, _ = slot
        return last + self.window - now if count >= self.per_ip else 0.0

    def _wait_account(self, slot, now: float) -> float:
        return slot[4] - now

    def _count(self, slot, now: float, delay) -> None:
        offset, hashed, count, _, until = slot
        count += 1
        if delay is not None:
            until = max(until, now + delay(count))
        SLOT.pack_into(self.table.memory, offset, hashed, count, now, until)

    def _slot(self, kind: str, key: str, now: float) -> tuple[int, int, float, float, float]:
        """(offset, hash, attempts, last, until) of the key's slot; a new one holds nothing.

        Attempts older than the window (and not waited out) are forgotten."""
        hashed = self.table.key_hash(f"{kind}:{key}")
        base = HEADER + (hashed % SETS) * WAYS * SLOT.size
        victim, victim_rank = base, (math.inf, math.inf)
        for offset in range(base, base + WAYS * SLOT.size, SLOT.size):
            key_hash, count, last, until = SLOT.unpack_from(self.table.memory, offset)
            expired = key_hash == 0 or (now - last > self.window and until <= now)
            if key_hash == hashed:
                return (offset, hashed, 0.0, now, 0.0) if expired else (offset, hashed, count, last, until)
            rank = (0, 0) if expired else (1, count)
            if rank < victim_rank:
                victim, victim_rank = offset, rank
        return victim, hashed, 0.0, now, 0.0
