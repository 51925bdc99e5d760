"""The collector alone, for gunicorn in production: ``collector.wsgi:app``.

Every worker process builds its own app: it checks write keys against the
warehouse and appends accepted events to the shared spool folder, and does
nothing else. Exactly one ``basirat loader`` process (or the loader thread of
``basirat serve``, which owns an embedded warehouse) drains that folder; a
worker never loads, so any number of them can run side by side.
"""

from __future__ import annotations

import collector
from core import connect, settings
from warehouse.engine.embedded import ChdbWarehouse


class EmbeddedWithoutOwner(RuntimeError):
    """The embedded warehouse has no running owner to reach."""


def build(config: dict | None = None):
    config = config or settings.load()
    warehouse = connect(config)
    if isinstance(warehouse, ChdbWarehouse):
        warehouse.close()
        raise EmbeddedWithoutOwner(
            f"{config['WAREHOUSE_URL']} is an embedded warehouse and no `basirat serve` owns it: "
            "start `basirat serve` on the same data (collectors then reach it through its socket) "
            "or use a ClickHouse server URL"
        )
    return collector.create_app(config, warehouse=warehouse)


app = build()
