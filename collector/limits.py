"""The collector's rate limits: the shared-memory token buckets of ``core.limits``.

They moved to ``core`` so that the recommendation endpoint counts its clients
with the same buckets; the names the collector (and its tests) use stay here.
"""

from core.limits import SETS, SLOT, WAYS, RateLimiter, _key_hash, new_table, share, table  # noqa: F401
