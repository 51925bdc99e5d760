"""The event vocabulary of the Segment HTTP Tracking API, as the collector accepts it."""

from __future__ import annotations

# Message types the collector accepts (``type`` of a Segment message).
TYPES = ("track", "page", "identify", "alias", "screen", "group")
