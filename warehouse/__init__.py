"""The warehouse: the only room that knows ClickHouse.

Every SQL statement of the product lives in this package, written once in
ClickHouse's own parameter syntax (``{name:Type}``) and run unchanged on chDB,
on a ClickHouse server and on a cluster. Other rooms call the named query
functions of the modules below; they never write SQL themselves.
"""

from .engine.connection import Warehouse, WarehouseError, WarehouseLocked, connect

__all__ = ["Warehouse", "WarehouseError", "WarehouseLocked", "connect"]
