"""Site keys held in memory, refreshed from the warehouse.

A miss triggers a reload at most once a second, so a site created a moment
ago is accepted without waiting for the periodic refresh, and a flood of bad
keys cannot turn into a flood of warehouse queries.
"""

from __future__ import annotations

import threading
import time

from warehouse import WarehouseError, sites


class KeyCache:
    def __init__(self, warehouse, refresh_seconds: float = 10.0):
        self.warehouse = warehouse
        self.refresh_seconds = refresh_seconds
        self._index = {"write": {}, "public": {}, "domains": {}}
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def _reload(self, force: bool) -> None:
        now = time.monotonic()
        age = now - self._loaded_at
        if age < (1.0 if force else self.refresh_seconds):
            return
        with self._lock:
            if time.monotonic() - self._loaded_at < (1.0 if force else self.refresh_seconds):
                return
            try:
                self._index = sites.key_index(self.warehouse)
            except WarehouseError:
                if not self._index["write"]:
                    raise
            self._loaded_at = time.monotonic()

    def _lookup(self, kind: str, key: str) -> str | None:
        self._reload(force=False)
        site_id = self._index[kind].get(key)
        if site_id is None:
            self._reload(force=True)
            site_id = self._index[kind].get(key)
        return site_id

    def site_for_write_key(self, key: str) -> str | None:
        return self._lookup("write", key) if key else None

    def site_for_public_key(self, key: str) -> str | None:
        return self._lookup("public", key) if key else None

    def domains(self, site_id: str) -> list[str]:
        return self._index["domains"].get(site_id, [])
