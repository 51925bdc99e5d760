"""The keys of the site the storefront tracks into, found by its name.

``basirat demo`` creates the "Demo store" site a few seconds after the server
starts, so a miss is looked up again (at most every two seconds) instead of
being remembered.

The storefront is the store's server: it signs a signed-in customer's id with
the site's identity secret (``user_hash``), which never reaches a page.
"""

from __future__ import annotations

import threading
import time

from core.identity import user_hash
from warehouse import WarehouseError
from warehouse.queries import sites


class SiteKeys:
    def __init__(self, warehouse, name: str, retry_seconds: float = 2.0):
        self.warehouse = warehouse
        self.name = name
        self.retry_seconds = retry_seconds
        self._site: dict | None = None
        self._secret = ""
        self._tried_at = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> dict | None:
        """{"site_id", "write_key", "public_key"} or None while the site does not exist."""
        if (self._site is not None and self._secret) or time.monotonic() - self._tried_at < self.retry_seconds:
            return self._site
        with self._lock:
            if not (self._site and self._secret) and time.monotonic() - self._tried_at >= self.retry_seconds:
                self._tried_at = time.monotonic()
                self._site = self._find()
        return self._site

    def user_hash(self, user_id: str) -> str:
        """The userHash of a signed-in customer's id ('' when signed out, or the site has no secret yet)."""
        self.get()
        return user_hash(self._secret, user_id) if self._secret and user_id else ""

    def _find(self) -> dict | None:
        try:
            found = [s for s in sites.list_sites(self.warehouse) if s["name"] == self.name]
        except WarehouseError:
            return None
        if not found:
            return None
        site = found[0]
        self._secret = site["identity_secret"]
        return {k: site[k] for k in ("site_id", "write_key", "public_key")}
