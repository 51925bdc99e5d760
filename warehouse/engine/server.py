"""A ClickHouse server over the native protocol (clickhouse-driver)."""

from __future__ import annotations

import math
import threading

import pandas as pd
import pyarrow as pa
from clickhouse_driver import Client
from clickhouse_driver import errors as driver_errors

from .cluster import mutation_for_cluster, once_per_shard
from .connection import Warehouse, WarehouseError, check_readonly, parse_version, table_name
from .params import for_driver


def _message(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _none_for_nan(values: list) -> list:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def _column_values(series: pd.Series, ch_type: str) -> list:
    """A frame column as the driver takes it. Naive datetimes (UTC, the
    project's convention) for ``DateTime`` columns go as epoch seconds: the
    driver passes integers through instead of localizing each value, which
    was most of an insert's time."""
    nullable = ch_type.startswith("Nullable(")
    inner = ch_type[len("Nullable(") : -1] if nullable else ch_type
    if inner.startswith("DateTime(") or inner == "DateTime":
        if pd.api.types.is_datetime64_dtype(series.dtype):
            seconds = series.to_numpy(dtype="datetime64[s]").astype("int64").tolist()
            if nullable:
                return [None if missing else v for v, missing in zip(seconds, series.isna().tolist())]
            return seconds
    values = series.tolist()
    return _none_for_nan(values) if nullable else values


def _list_values(values: list, ch_type: str) -> list:
    """A column of Python values as the driver takes it: naive datetimes for
    ``DateTime`` go as epoch seconds, as in ``_column_values``."""
    if ch_type.startswith("DateTime(") or ch_type == "DateTime":
        # Arrow converts datetimes in C, five times faster than numpy's array().
        return pa.array(values, type=pa.timestamp("s")).cast(pa.int64()).to_pylist()
    return values


def _external_tables(tables: dict[str, list[str]]) -> list[dict]:
    """``Warehouse.query``'s tables as the native protocol's external data, which
    a distributed query also sends on to the shards."""
    return [
        {"name": table_name(name), "structure": [("value", "String")], "data": [(value,) for value in values]}
        for name, values in tables.items()
    ]


# Over a cluster: an insert returns once every shard has its rows (so a reader
# sees its own writes), reads prefer the first live replica in the cluster's
# order (the one inserts go to), and a subquery over a Distributed table inside
# a distributed query is computed once and shipped (rather than refused).
CLUSTER_SETTINGS = {
    "insert_distributed_sync": 1,
    "load_balancing": "in_order",
    "distributed_product_mode": "global",
}


class ServerWarehouse(Warehouse):
    """One driver connection per thread: clickhouse-driver clients are not shared."""

    def __init__(self, host, port, user, password, database, secure=False, cluster="", url="", settings=None):
        self.url = url
        self.database = database
        self.cluster = cluster
        self._kwargs = dict(
            host=host,
            port=port,
            user=user,
            password=password,
            secure=secure,
            connect_timeout=5,
            send_receive_timeout=300,
            settings={"use_numpy": False, **(CLUSTER_SETTINGS if cluster else {}), **(settings or {})},
        )
        self._local = threading.local()
        self._types: dict[str, dict[str, str]] = {}
        self._clients: list[Client] = []
        self._clients_lock = threading.Lock()
        bootstrap = Client(**self._kwargs)
        try:
            # ON CLUSTER DDL waits for every node: issued only when needed, a
            # process can start while one node of the cluster is down.
            exists = bootstrap.execute("SELECT count() FROM system.databases WHERE name = %(db)s", {"db": database})
            if not exists[0][0]:
                on_cluster = f" ON CLUSTER {cluster}" if cluster else ""
                bootstrap.execute(f"CREATE DATABASE IF NOT EXISTS {database}{on_cluster}")
            self.version = parse_version(bootstrap.execute("SELECT version()")[0][0])
        except (driver_errors.Error, OSError, EOFError) as exc:
            raise WarehouseError(f"cannot reach ClickHouse at {host}:{port}: {_message(exc)}") from exc
        finally:
            bootstrap.disconnect()

    @property
    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = Client(database=self.database, **self._kwargs)
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _execute(self, sql, params=None, **kwargs):
        sql = mutation_for_cluster(sql, self.cluster, self.database)
        if self.cluster and (per_shard := once_per_shard(sql)):
            return self._on_each_shard(per_shard, params)
        sql, values = for_driver(sql, params)
        try:
            return self._client.execute(sql, values, **kwargs)
        except (driver_errors.Error, OSError, EOFError) as exc:
            self._client.disconnect()
            raise WarehouseError(_message(exc)) from exc

    def _on_each_shard(self, sql: str, params: dict | None) -> None:
        """Run ``sql`` on one live replica of every shard of the cluster, in the cluster's order."""
        shards: dict[int, list[tuple[str, int]]] = {}
        for shard, host, port in self._execute(
            "SELECT shard_num, host_name, port FROM system.clusters WHERE cluster = {c:String} "
            "ORDER BY shard_num, replica_num",
            {"c": self.cluster},
        ):
            shards.setdefault(shard, []).append((host, port))
        if not shards:
            raise WarehouseError(f"cluster {self.cluster!r} is not in the server's remote_servers")
        statement, values = for_driver(sql, params)
        for shard, replicas in shards.items():
            failures = []
            for host, port in replicas:
                client = Client(**{**self._kwargs, "host": host, "port": port}, database=self.database)
                try:
                    client.execute(statement, values)
                    break
                except (driver_errors.NetworkError, driver_errors.SocketTimeoutError, OSError, EOFError) as exc:
                    failures.append(f"{host}:{port}: {_message(exc)}")
                except driver_errors.Error as exc:
                    raise WarehouseError(_message(exc)) from exc
                finally:
                    client.disconnect()
            else:
                raise WarehouseError(f"no replica of shard {shard} answered: {'; '.join(failures)}")

    def query(self, sql: str, params: dict | None = None, tables: dict[str, list[str]] | None = None) -> list[dict]:
        extra = {"external_tables": _external_tables(tables)} if tables else {}
        rows, columns = self._execute(sql, params, with_column_types=True, **extra)
        names = [c[0] for c in columns]
        return [dict(zip(names, row)) for row in rows]

    def query_df(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        data, columns = self._execute(sql, params, with_column_types=True, columnar=True)
        names = [c[0] for c in columns]
        if not data:
            return pd.DataFrame(columns=names)
        return pd.DataFrame({n: list(col) for n, col in zip(names, data)})

    def execute(self, sql: str, params: dict | None = None) -> None:
        self._execute(sql, params)

    def insert(self, table: str, frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        columns = list(frame.columns)
        types = self._column_types(table)
        self._insert(table, columns, [_column_values(frame[c], types.get(c, "")) for c in columns])
        return len(frame)

    def insert_columns(self, table: str, columns: dict[str, list]) -> int:
        count = len(next(iter(columns.values()), ()))
        if not count:
            return 0
        types = self._column_types(table)
        try:
            data = [_list_values(v, types.get(c, "")) for c, v in columns.items()]
        except (TypeError, ValueError) as exc:  # Arrow's conversion errors are both
            raise WarehouseError(f"values do not fit the columns of {table}: {exc}") from exc
        self._insert(table, list(columns), data)
        return count

    def _insert(self, table: str, columns: list[str], data: list[list]) -> None:
        try:
            self._client.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES", data, columnar=True)
        except (driver_errors.Error, OSError, EOFError) as exc:
            self._client.disconnect()
            raise WarehouseError(_message(exc)) from exc

    def _column_types(self, table: str) -> dict[str, str]:
        if table not in self._types:
            rows = self.query(f"DESCRIBE TABLE {table}")
            self._types[table] = {r["name"]: r["type"] for r in rows}
        return self._types[table]

    def text(self, sql: str, fmt: str = "PrettyCompact", readonly: bool = True) -> str:
        """Fetch rows and render them here: the driver speaks only the native
        format, so CSV/JSON/pretty output is produced by ``render``."""
        if readonly:
            check_readonly(sql, fmt)
        settings = {"readonly": 1} if readonly else {}
        sql, values = for_driver(sql, None)
        try:
            rows, columns = self._client.execute(sql, values, with_column_types=True, settings=settings)
        except (driver_errors.Error, OSError, EOFError) as exc:
            self._client.disconnect()
            raise WarehouseError(_message(exc)) from exc
        from .render import render

        return render([c[0] for c in columns], [c[1] for c in columns], rows, fmt)

    def close(self) -> None:
        with self._clients_lock:
            for client in self._clients:
                client.disconnect()
            self._clients.clear()
        self._local = threading.local()
