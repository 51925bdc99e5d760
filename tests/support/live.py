"""A real ``basirat serve`` process on a loopback port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.servers import free_port

BASIRAT = [sys.executable, "-m", "basirat"]


def basirat(data: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the CLI against a data folder, as a user would."""
    return subprocess.run(
        [*BASIRAT, "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
        env={**os.environ, **(env or {})},
    )


def stop_group(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
    """Signal a process group this test started; SIGKILL it if it outlives ``timeout``."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class LiveServer:
    def __init__(self, data: Path, env: dict | None = None):
        self.data = Path(data)
        self.port = free_port()
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "LiveServer":
        self.data.mkdir(parents=True, exist_ok=True)
        self.log = open(self.data / "serve.log", "ab")
        self.process = subprocess.Popen(
            [*BASIRAT, "--data", str(self.data), "serve", "--port", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "BASIRAT_LOADER_INTERVAL": "0.2", **self.env},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"basirat serve exited: {(self.data / 'serve.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("basirat serve did not answer /healthz in time")

    def stop(self) -> None:
        stop_group(self.process, signal.SIGTERM, timeout=60)
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def sql(self, query: str) -> list[dict]:
        out = basirat(self.data, "sql", query, "--format", "JSONEachRow").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def wait_for(self, query: str, predicate, timeout: float = 20.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.sql(query)
            if predicate(rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.3)
