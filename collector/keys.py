"""Site keys held in memory, refreshed from the warehouse.

A miss triggers a reload at most once a second, so a site created a moment
ago is accepted without waiting for the periodic refresh, and a flood of bad
keys cannot turn into a flood of warehouse queries.

Each successful load is also written to a snapshot file beside the spool, so a
collector that starts (or a worker that is forked) while ClickHouse is down
still knows every key it knew before and keeps spooling.
"""

from __future__ import annotations

import json
import os
import threading
import time

from warehouse import WarehouseError
from warehouse.queries import sites


class KeysUnavailable(WarehouseError):
    """No key was ever loaded and the warehouse cannot be reached."""


class KeyCache:
    def __init__(self, warehouse, refresh_seconds: float = 10.0, snapshot_path: str | None = None):
        self.warehouse = warehouse
        self.snapshot_path = snapshot_path
        self.refresh_seconds = refresh_seconds
        self._index = {"write": {}, "public": {}, "server": {}, "domains": {}, "identity": {}}
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
                index = sites.key_index(self.warehouse)
                if index != self._index:
                    self._save(index)
                self._index = index
            except WarehouseError as exc:
                if not self._index["write"]:
                    self._index = self._restore(exc)
            self._loaded_at = time.monotonic()

    def _save(self, index: dict) -> None:
        if not self.snapshot_path:
            return
        tmp = f"{self.snapshot_path}.{os.getpid()}.tmp"
        try:
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
                json.dump(index, fh)
            os.replace(tmp, self.snapshot_path)
        except OSError:
            pass

    def _restore(self, exc: WarehouseError) -> dict:
        try:
            with open(self.snapshot_path or "") as fh:
                return json.load(fh)
        except (OSError, ValueError):
            raise KeysUnavailable(f"site keys cannot be loaded: {exc}") from exc

    def _lookup(self, kind: str, key: str) -> str | None:
        self._reload(force=False)
        site_id = self._index.get(kind, {}).get(key)
        if site_id is None:
            self._reload(force=True)
            site_id = self._index.get(kind, {}).get(key)
        return site_id

    def site_for_write_key(self, key: str) -> str | None:
        return self._lookup("write", key) if key else None

    def site_for_server_key(self, key: str) -> str | None:
        return self._lookup("server", key) if key else None

    def identity(self, site_id: str) -> tuple[str, bool]:
        """(identity secret, trusts unsigned identifies) of a site whose key was just looked up."""
        secret, trust_unsigned = self._index.get("identity", {}).get(site_id, ("", False))
        return secret, bool(trust_unsigned)

    def domains(self, site_id: str) -> list[str]:
        return self._index["domains"].get(site_id, [])
