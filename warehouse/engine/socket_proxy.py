"""Reach an embedded warehouse owned by another process.

The owning process (``basirat serve``) listens on a Unix socket inside the
data folder, created with mode 0600: only the account that owns the data can
connect, which is the same account that could open the folder itself. Calls
and results travel as length-prefixed pickles; DataFrames keep their dtypes.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import socketserver
import struct
import threading

import pandas as pd

from .connection import Warehouse, WarehouseError

log = logging.getLogger(__name__)
_HEADER = struct.Struct("!Q")
_METHODS = ("query", "query_df", "execute", "insert", "insert_columns", "text")


def _send(sock: socket.socket, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv(sock: socket.socket):
    header = _recv_exact(sock, _HEADER.size)
    return pickle.loads(_recv_exact(sock, _HEADER.unpack(header)[0]))


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("warehouse socket closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class SocketWarehouse(Warehouse):
    def __init__(self, socket_path: str, url: str):
        self.url = url
        self.socket_path = socket_path
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(socket_path)
        except OSError as exc:
            raise WarehouseError(
                f"the embedded warehouse is locked and its owner does not answer on {socket_path}"
            ) from exc
        info = self._call("info")
        self.database, self.version = info["database"], tuple(info["version"])

    def _call(self, method: str, *args):
        with self._lock:
            try:
                _send(self._sock, (method, args))
                ok, value = _recv(self._sock)
            except (ConnectionError, EOFError, OSError) as exc:
                raise WarehouseError(f"lost the connection to the process serving {self.url} ({exc})") from None
        if not ok:
            raise WarehouseError(value)
        return value

    @property
    def features(self) -> dict[str, bool]:
        return self._call("features")

    def query(self, sql, params=None, tables=None):
        return self._call("query", sql, params, tables)

    def query_df(self, sql, params=None) -> pd.DataFrame:
        return self._call("query_df", sql, params)

    def execute(self, sql, params=None):
        return self._call("execute", sql, params)

    def insert(self, table, frame):
        return self._call("insert", table, frame)

    def insert_columns(self, table, columns):
        return self._call("insert_columns", table, columns)

    def text(self, sql, fmt="PrettyCompact", readonly=True):
        return self._call("text", sql, fmt, readonly)

    def close(self):
        self._sock.close()


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        warehouse: Warehouse = self.server.warehouse
        while True:
            try:
                method, args = _recv(self.request)
            except (ConnectionError, EOFError, OSError):
                return
            try:
                if method == "info":
                    result = {"database": warehouse.database, "version": list(warehouse.version)}
                elif method == "features":
                    result = warehouse.features
                elif method in _METHODS:
                    result = getattr(warehouse, method)(*args)
                else:
                    raise WarehouseError(f"unknown call {method!r}")
                _send(self.request, (True, result))
            except WarehouseError as exc:
                _send(self.request, (False, str(exc)))
            except Exception as exc:  # the caller gets an error, and the connection stays usable
                log.exception("warehouse socket: %s failed", method)
                _send(self.request, (False, f"{method} failed in the serving process: {type(exc).__name__}: {exc}"))


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def serve_socket(warehouse: Warehouse, socket_path: str) -> _Server:
    """Start answering on ``socket_path`` in a daemon thread; returns the server."""
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    old = os.umask(0o177)
    try:
        server = _Server(socket_path, _Handler)
    finally:
        os.umask(old)
    server.warehouse = warehouse
    threading.Thread(target=server.serve_forever, name="warehouse-socket", daemon=True).start()
    return server
