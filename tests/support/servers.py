"""Real ClickHouse servers for tests: Debian's clickhouse-server on loopback.

Each server gets its own folder, config and free ports, runs as a child of
the test session and is stopped by its own pid. With CI=true a missing binary
fails the run instead of skipping the server backend.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{root}/log/server.log</log><errorlog>{root}/log/error.log</errorlog>
    <size>10M</size><count>1</count></logger>
  <tcp_port>{tcp_port}</tcp_port>
  <http_port>{http_port}</http_port>
  <interserver_http_port>{interserver_port}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <listen_host>127.0.0.1</listen_host>
  <path>{root}/data/</path>
  <tmp_path>{root}/tmp/</tmp_path>
  <user_files_path>{root}/user_files/</user_files_path>
  <format_schema_path>{root}/format_schemas/</format_schema_path>
  <users_config>{users}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  {extra}
</yandex>
"""


_issued: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A loopback port that is free now and stays out of the kernel's way.

    A port taken with bind(0) comes from the ephemeral range, where the
    kernel also places the local end of every outgoing connection; a server
    started a moment later can then find it taken. Ports are picked below
    that range instead, never twice in one session.
    """
    low, _ = _ephemeral_range()
    candidates = list(range(20000, low)) if low > 21000 else []
    random.shuffle(candidates)
    for port in candidates[:500]:
        if port in _issued:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _issued.add(port)
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _issued.add(port)
    return port


def server_binary() -> str | None:
    return shutil.which("clickhouse-server") or (
        "/usr/bin/clickhouse-server" if os.path.exists("/usr/bin/clickhouse-server") else None
    )


class ClickHouseServer:
    def __init__(self, root: Path, extra_config: str = "", tcp_port: int | None = None):
        self.root = Path(root)
        self.tcp_port = tcp_port or free_port()
        self.http_port = free_port()
        self.interserver_port = free_port()
        self.extra_config = extra_config
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"clickhouse://default@127.0.0.1:{self.tcp_port}/basirat"

    def write_config(self) -> Path:
        for sub in ("log", "data", "tmp", "user_files", "format_schemas"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        config = self.root / "config.xml"
        config.write_text(
            CONFIG.format(
                root=self.root,
                tcp_port=self.tcp_port,
                http_port=self.http_port,
                interserver_port=self.interserver_port,
                users="/etc/clickhouse-server/users.xml",
                extra=self.extra_config,
            )
        )
        return config

    def start(self, timeout: float = 60.0) -> "ClickHouseServer":
        binary = server_binary()
        if binary is None:
            raise RuntimeError("clickhouse-server is not installed (make test installs Debian's package)")
        config = self.write_config()
        with open(self.root / "log" / "stdout.log", "ab") as out:
            self.process = subprocess.Popen(
                [binary, f"--config-file={config}"],
                cwd=self.root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"clickhouse-server exited with {self.process.returncode}; see {self.root}/log\n" + self.log_tail()
                )
            if self.ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"clickhouse-server did not answer on port {self.tcp_port} within {timeout}s")

    def log_tail(self, lines: int = 20) -> str:
        """The last messages of the server's error log, without their stack traces, so a
        failed start or a failed test explains itself in the report."""
        path = self.root / "log" / "error.log"
        try:
            text = path.read_text(errors="replace")
        except OSError:
            return ""
        messages = [line[:400] for line in text.splitlines() if line[:2].isdigit()]
        return "\n".join(messages[-lines:])

    def activity(self) -> list[str]:
        """Queries running for over a second and mutations not done, one line each."""
        from clickhouse_driver import Client

        client = Client(host="127.0.0.1", port=self.tcp_port, connect_timeout=2, send_receive_timeout=10)
        try:
            queries = client.execute(
                "SELECT round(elapsed, 1), substring(query, 1, 200) FROM system.processes "
                "WHERE elapsed > 1 AND query NOT LIKE '%system.processes%'"
            )
            mutations = client.execute(
                "SELECT table, mutation_id, substring(command, 1, 120), parts_to_do "
                "FROM system.mutations WHERE NOT is_done"
            )
        except Exception as exc:
            return [f"cannot ask it: {exc}"]
        finally:
            client.disconnect()
        running = [f"running {elapsed}s: {query}" for elapsed, query in queries]
        pending = [f"mutation not done: {t} {m} {command} ({parts} parts to do)" for t, m, command, parts in mutations]
        return running + pending

    def ready(self) -> bool:
        from clickhouse_driver import Client

        client = Client(host="127.0.0.1", port=self.tcp_port, connect_timeout=1)
        try:
            client.execute("SELECT 1")
            return True
        except Exception:
            return False
        finally:
            client.disconnect()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """Stop abruptly, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
