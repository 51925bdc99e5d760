"""What every room above the warehouse shares: settings, the event vocabulary, the visit gap.

``core`` imports only ``warehouse``; every other room may import ``core``.
``connect(config)`` opens the warehouse a configuration names, so no room
reads the environment itself: settings are loaded once by the process and
passed in.
"""

from __future__ import annotations

from warehouse import Warehouse
from warehouse import connect as _connect

from .settings import clickhouse_settings


def connect(config: dict) -> Warehouse:
    """The warehouse of ``config`` (``WAREHOUSE_URL``, on ``CLICKHOUSE_CLUSTER`` when set), its
    queries run with the memory and thread settings of ``config``."""
    return _connect(
        config["WAREHOUSE_URL"], cluster=config.get("CLICKHOUSE_CLUSTER", ""), settings=clickhouse_settings(config)
    )
