"""Embedded ClickHouse (chDB): the default backend, no server to run.

chDB lets one process own a data folder. That process serves every other
caller through a Unix socket inside the folder (mode 0600), so operator
commands such as ``basirat sql`` keep working while ``basirat serve`` runs.
A chDB session also mixes up bound parameters of concurrent queries, so each
statement holds the session lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import threading

import pandas as pd
import pyarrow as pa

from .connection import Warehouse, WarehouseError, WarehouseLocked, check_readonly, parse_version, table_name
from .params import for_chdb
from .render import render

DATABASE = "basirat"
SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
SOCKET_NAME = "basirat.sock"
INSERT_SLICE_ROWS = 250_000
# chDB's DataFrame output turns each value of an Array column into a numpy
# array one at a time: 50,000 visits' item lists took 0.3 s of a 0.45 s read.
# A result with such arrays is read as Arrow instead, when every one of its
# columns is of a type Arrow gives pandas as chDB's DataFrame does (DateTime
# comes as seconds, and is turned back into UTC times).
_ARROW_ARRAY = re.compile(r"^Array\((?:String|LowCardinality\(String\)|U?Int(?:8|16|32|64)|Float(?:32|64))\)$")
_ARROW_SAME = re.compile(r"^(?:String|LowCardinality\(String\)|U?Int(?:8|16|32|64)|Float(?:32|64)|DateTime\('UTC'\))$")


def open_embedded(path: str, settings: dict | None = None) -> Warehouse:
    """Talk to the process that owns the folder if one does, else own it.

    ``settings`` apply to the process's one session: a later caller's replace an earlier one's.
    """
    path = os.path.abspath(path)
    socket_path = os.path.join(path, SOCKET_NAME)
    if os.path.exists(socket_path):
        from .socket_proxy import SocketWarehouse

        try:
            return SocketWarehouse(socket_path, url=f"chdb://{path}")
        except WarehouseError:
            pass  # a socket left by a process that is gone
    with _OPEN_LOCK:
        # The engine is one per process: every caller shares one instance and
        # therefore one statement lock.
        if path not in _OPEN or _OPEN[path].closed:
            if any(not w.closed for w in _OPEN.values()):
                other = next(p for p, w in _OPEN.items() if not w.closed)
                raise WarehouseError(
                    f"this process already has the embedded warehouse {other} open; chDB allows one folder per process"
                )
            _OPEN[path] = ChdbWarehouse(path)
        _OPEN[path].apply(settings or {})
        return _OPEN[path]


_OPEN: dict[str, "ChdbWarehouse"] = {}
_OPEN_LOCK = threading.Lock()


_ARROW = {
    "String": pa.string(),
    "LowCardinality(String)": pa.string(),
    "Float64": pa.float64(),
    "UInt32": pa.uint32(),
    "UInt64": pa.uint64(),
    "Int64": pa.int64(),
    "UInt8": pa.uint8(),
}


_ARROW_NUMBERS = {"UInt16": pa.uint16(), "UInt32": pa.uint32(), "UInt8": pa.uint8(), "Float64": pa.float64()}


def _arrow_type(ch_type: str) -> pa.DataType | None:
    """The Arrow type for a column of Python values bound for ``ch_type`` (None: let Arrow guess).
    Naive datetimes become timestamps in seconds, read by chDB as UTC like a frame's."""
    inner = ch_type.removeprefix("Nullable(").removeprefix("LowCardinality(").rstrip(")")
    if ch_type.startswith("Array("):
        element = _arrow_type(ch_type[len("Array(") : -1])
        return pa.list_(element) if element is not None else None
    if inner.startswith("DateTime"):
        return pa.timestamp("s")
    return _ARROW.get(inner) or _ARROW_NUMBERS.get(inner)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _typed(value, type_: str):
    if value is None:
        return None
    if type_.startswith("Nullable("):
        return _typed(value, type_[9:-1])
    if type_.startswith("LowCardinality("):
        return _typed(value, type_[15:-1])
    if type_.startswith("DateTime"):
        return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
    if type_ == "Date":
        return dt.date.fromisoformat(value)
    return value


class ChdbWarehouse(Warehouse):
    def __init__(self, path: str):
        from chdb import session

        os.makedirs(path, mode=0o700, exist_ok=True)  # keys, secrets and password hashes live here
        self.path = path
        self.url = f"chdb://{path}"
        self.database = DATABASE
        self._lock = threading.RLock()
        self._column_types: dict[str, dict[str, str]] = {}
        self._result_types: dict[str, list[str] | None] = {}
        self.closed = False
        try:
            self._session = session.Session(path)
        except Exception as exc:  # chDB raises a bare RuntimeError here
            if "lock" in str(exc).lower() or "EmbeddedServer" in str(exc):
                raise WarehouseLocked(
                    f"the embedded warehouse {path} is open in another process that does not serve it; "
                    "stop that process or point BASIRAT_WAREHOUSE_URL elsewhere"
                ) from exc
            raise WarehouseError(_first_line(exc)) from exc
        self._run(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
        self._run(f"USE {DATABASE}")
        self.version = parse_version(str(self._run("SELECT version()", fmt="CSV")))

    def apply(self, settings: dict) -> None:
        """Run every later query of this session with these ClickHouse settings (``SET``; numbers only)."""
        for name, value in settings.items():
            if not SETTING_NAME.match(name) or isinstance(value, bool) or not isinstance(value, int):
                raise WarehouseError(f"not a numeric ClickHouse setting: {name}={value!r}")
            self._run(f"SET {name} = {value}")

    def _run(self, sql: str, params: dict | None = None, fmt: str = "CSV"):
        with self._lock:
            try:
                return self._session.query(sql, fmt, params=for_chdb(params))
            except Exception as exc:
                raise WarehouseError(_first_line(exc)) from exc

    @property
    def features(self) -> dict[str, bool]:
        return {**super().features, "embedded": True}

    def _typed_rows(self, sql: str, params: dict | None, readonly: bool = False):
        settings = "output_format_json_quote_64bit_integers = 0" + (", readonly = 1" if readonly else "")
        raw = self._run(f"{sql}\nSETTINGS {settings}", params, "JSONCompact")
        text = raw.bytes() if hasattr(raw, "bytes") else bytes(raw)
        if not text.strip():
            return [], [], []
        try:
            doc = json.loads(text)
        except ValueError:
            raise WarehouseError("the warehouse did not answer in the format it was asked for") from None
        names = [m["name"] for m in doc["meta"]]
        types = [m["type"] for m in doc["meta"]]
        rows = [[_typed(v, t) for t, v in zip(types, row)] for row in doc["data"]]
        return names, types, rows

    def query(self, sql: str, params: dict | None = None, tables: dict[str, list[str]] | None = None) -> list[dict]:
        if tables:
            with self._lock, self._sent_tables(tables):
                names, _, rows = self._typed_rows(sql, params)
        else:
            names, _, rows = self._typed_rows(sql, params)
        return [dict(zip(names, row)) for row in rows]

    @contextlib.contextmanager
    def _sent_tables(self, tables: dict[str, list[str]]):
        """``query``'s tables as temporary tables of the session, dropped after the
        statement; the caller holds the lock throughout, so no other statement sees them."""
        made = []
        try:
            for name, values in tables.items():
                name = table_name(name)
                self._run(f"DROP TEMPORARY TABLE IF EXISTS {name}")
                self._run(f"CREATE TEMPORARY TABLE {name} (value String)")
                made.append(name)
                try:
                    basirat_sent_table = pa.table({"value": pa.array(values, pa.string())})  # noqa: F841 (read by name)
                    self._session.query(f"INSERT INTO {name} SELECT value FROM Python(basirat_sent_table)")
                except Exception as exc:  # Arrow's conversion errors and chDB's bare RuntimeError
                    raise WarehouseError(_first_line(exc)) from exc
            yield
        finally:
            for name in made:
                with contextlib.suppress(WarehouseError):
                    self._run(f"DROP TEMPORARY TABLE IF EXISTS {name}")

    def query_df(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        types = self._types_of_result(sql, params)
        if types and any(map(_ARROW_ARRAY.match, types)):
            table = self._run(sql, params, "ArrowTable")
            frame = table.to_pandas()
            for name, type_ in zip(table.column_names, types):
                if type_.startswith("DateTime"):
                    frame[name] = pd.to_datetime(frame[name].astype("int64"), unit="s", utc=True).astype(
                        "datetime64[s, UTC]"
                    )
            return frame
        frame = self._run(sql, params, "DataFrame")
        return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame()

    def _types_of_result(self, sql: str, params: dict | None) -> list[str] | None:
        """The result's column types when Arrow reads it as chDB's DataFrame would (``_ARROW_SAME``,
        ``_ARROW_ARRAY``), else None. Asked once per statement: its placeholders fix its types.
        DESCRIBE evaluates the statement's scalar subqueries (a newest version, a latest time):
        a heavy one would run twice on its statement's first read."""
        if sql in self._result_types:
            return self._result_types[sql]
        if len(self._result_types) >= 2000:  # statements with values written in: keep the memory bounded
            self._result_types.clear()
        try:
            names, _, rows = self._typed_rows(f"DESCRIBE TABLE ({sql})", params)
        except WarehouseError:
            rows, names = [], []
        types = [row[names.index("type")] for row in rows] if "type" in names else []
        found = types if types and all(_ARROW_SAME.match(t) or _ARROW_ARRAY.match(t) for t in types) else None
        self._result_types[sql] = found
        return found

    def execute(self, sql: str, params: dict | None = None) -> None:
        self._run(sql, params)

    def insert(self, table: str, frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        self._insert_arrow(table, lambda: self._arrow(table, frame))
        return len(frame)

    def insert_columns(self, table: str, columns: dict[str, list]) -> int:
        count = len(next(iter(columns.values()), ()))
        if not count:
            return 0

        def arrow() -> pa.Table:
            types = self._types_of(table)
            arrays = [pa.array(values, type=_arrow_type(types.get(name, ""))) for name, values in columns.items()]
            return pa.Table.from_arrays(arrays, names=list(columns))

        self._insert_arrow(table, arrow)
        return count

    def _insert_arrow(self, table: str, build) -> None:
        """Insert the Arrow table ``build()`` makes, in slices of ``INSERT_SLICE_ROWS``: the engine
        forms, sorts and writes each insert's block in this process, and a block of a million rows
        took half a gigabyte (segments' first run, 30M events)."""
        with self._lock:
            try:
                whole = build()
                columns = ", ".join(whole.column_names)
                for start in range(0, whole.num_rows, INSERT_SLICE_ROWS):
                    # chDB reads the local variable named in Python(...); an Arrow
                    # table carries list columns as arrays, where a DataFrame's
                    # object columns would be guessed as Nullable.
                    basirat_insert_frame = whole.slice(start, INSERT_SLICE_ROWS)  # noqa: F841 (read by name)
                    self._session.query(
                        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM Python(basirat_insert_frame)"
                    )
            except Exception as exc:
                raise WarehouseError(_first_line(exc)) from exc

    def _types_of(self, table: str) -> dict[str, str]:
        types = self._column_types.get(table)
        if types is None:
            rows = self.query(f"DESCRIBE TABLE {table}")
            types = self._column_types[table] = {r["name"]: r["type"] for r in rows}
        return types

    def _arrow(self, table: str, frame: pd.DataFrame) -> pa.Table:
        """An Arrow table typed after the target's array columns: an empty
        list alone would be guessed as a list of nulls."""
        types = self._types_of(table)
        fields = []
        for name in frame.columns:
            inner = _ARROW.get(types.get(name, "").removeprefix("Array(").removesuffix(")"))
            if types.get(name, "").startswith("Array(") and inner is not None:
                fields.append(pa.field(name, pa.list_(inner)))
            else:
                fields.append(None)
        table_ = pa.Table.from_pandas(frame, preserve_index=False)
        for i, field in enumerate(fields):
            if field is not None:
                table_ = table_.set_column(i, field, pa.array(frame[field.name].tolist(), type=field.type))
        return table_

    def text(self, sql: str, fmt: str = "PrettyCompact", readonly: bool = True) -> str:
        if readonly:
            check_readonly(sql, fmt)
        names, types, rows = self._typed_rows(sql.rstrip().rstrip(";"), None, readonly)
        return render(names, types, rows, fmt)

    def release_memory(self) -> None:
        """ClickHouse's allocator keeps freed pages for seconds, in this process: hand them back now,
        so what the caller allocates next comes on top of what the engine holds, not of its peak."""
        super().release_memory()
        try:
            self._run("SYSTEM JEMALLOC PURGE")
        except WarehouseError:
            pass  # an engine built without jemalloc has nothing to purge

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self._session.close()
                self.closed = True
