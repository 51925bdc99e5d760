"""One interface, backends chosen by URL scheme.

``chdb:///abs/folder`` or ``chdb://./relative/folder`` opens the embedded engine
(the default); ``clickhouse://user:pass@host:9000/db`` a server over the native
protocol. ``Warehouse`` is the narrow surface every other room uses.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from urllib.parse import unquote, urlsplit

import pandas as pd
import pyarrow as pa

READONLY_START = re.compile(r"^\s*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|EXISTS)\b", re.I)
# The backends ask for a format of their own and render the answer from it;
# a FORMAT clause at the end of the statement would override that.
FORMAT_CLAUSE = re.compile(r"\bFORMAT\s+[A-Za-z]\w*\s*(SETTINGS\b.*)?;?\s*$", re.I | re.S)
FORMATS = ("CSV", "CSVWithNames", "TSV", "TSVWithNames", "JSONEachRow", "PrettyCompact", "Pretty")
TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class WarehouseError(Exception):
    """A statement failed; the message is ClickHouse's own, first line kept."""


class WarehouseLocked(WarehouseError):
    """The embedded folder is owned by another process."""


class Warehouse:
    """What every backend offers.

    ``query`` returns rows as dicts of plain Python values (datetimes are aware,
    in UTC); ``query_df`` a DataFrame for mining jobs; ``insert`` takes a
    DataFrame whose columns name the table's columns.
    """

    url: str
    database: str
    version: tuple[int, ...]
    cluster: str = ""

    def query(self, sql: str, params: dict | None = None, tables: dict[str, list[str]] | None = None) -> list[dict]:
        """Rows as dicts. ``tables`` are lists of strings sent beside the statement as
        one-column tables (column ``value``), which it reads by name (``x IN given_ids``):
        data rather than SQL text, so a long list costs no escaping and meets no limit
        on the statement's size."""
        raise NotImplementedError

    def query_df(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        raise NotImplementedError

    def execute(self, sql: str, params: dict | None = None) -> None:
        raise NotImplementedError

    def insert(self, table: str, frame: pd.DataFrame) -> int:
        raise NotImplementedError

    def insert_columns(self, table: str, columns: dict[str, list]) -> int:
        """Insert columns given as equal-length Python lists, naive UTC
        datetimes for ``DateTime`` columns. The loader's path: its rows go to
        the driver (or to Arrow) without a DataFrame in between, whose
        building and unpacking cost as much as building the rows."""
        raise NotImplementedError

    def text(self, sql: str, fmt: str = "PrettyCompact", readonly: bool = True) -> str:
        """Run an operator's ad-hoc statement and return it in a text format."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def release_memory(self) -> None:
        """Give memory kept from finished work back to the system (a job between its big reads and
        its own work in Python): Arrow's pool, where pandas keeps strings, holds freed blocks for
        reuse; the C allocator keeps freed arrays in its heap; the embedded engine, in this process
        too, holds its own."""
        pa.default_memory_pool().release_unused()
        _trim_c_heap()

    # Capabilities, decided by version so the same migrations and queries fit
    # both ClickHouse 18.16 and a current release.
    @property
    def features(self) -> dict[str, bool]:
        v = self.version
        return {
            "low_cardinality": v >= (19, 0),
            "ttl": v >= (19, 6),
            "lightweight_delete": v >= (23, 3),
            "window_functions": v >= (21, 3),
            "optimize_on_insert": v >= (21, 1),
        }

    def scalar(self, sql: str, params: dict | None = None):
        rows = self.query(sql, params)
        if not rows:
            return None
        return next(iter(rows[0].values()))


def table_name(name: str) -> str:
    """A name for a table sent with a statement: a plain identifier, so it cannot change the statement."""
    if not TABLE_NAME.match(name):
        raise WarehouseError(f"not a name for a table sent with a statement: {name!r}")
    return name


def check_readonly(sql: str, fmt: str) -> None:
    if fmt not in FORMATS:
        raise WarehouseError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not READONLY_START.match(sql):
        raise WarehouseError("only read statements are allowed (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS)")
    if FORMAT_CLAUSE.search(sql):
        raise WarehouseError("choose the output with --format, not with a FORMAT clause in the query")


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def connect(url: str, cluster: str = "", settings: dict | None = None) -> Warehouse:
    """Open the warehouse named by ``url``; ``settings`` (ClickHouse's own, by name) apply to every
    query it runs. An embedded folder served by another process runs with that process's settings."""
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        from .embedded import open_embedded

        path = unquote((parts.netloc or "") + parts.path) or "./data/warehouse"
        return open_embedded(path, settings)
    if parts.scheme in ("clickhouse", "clickhouses"):
        from .server import ServerWarehouse

        return ServerWarehouse(
            host=parts.hostname or "localhost",
            port=parts.port or (9440 if parts.scheme == "clickhouses" else 9000),
            user=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            database=(parts.path or "/basirat").strip("/") or "basirat",
            secure=parts.scheme == "clickhouses",
            cluster=cluster,
            url=url,
            settings=settings,
        )
    raise WarehouseError(f"unsupported warehouse URL {url!r}: use chdb:///folder or clickhouse://host:9000/db")


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_LIBC = _libc()


def _trim_c_heap() -> None:
    """glibc's ``malloc_trim``: freed NumPy and pandas buffers below the mmap threshold stay in the
    heap, and a job that builds a frame a day for a month grows by them. Elsewhere, nothing."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)
