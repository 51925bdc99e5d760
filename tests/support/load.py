"""A bounded load generator and the production processes it drives.

``CollectorProcess`` is ``basirat collector`` (gunicorn, several workers, spool
only) and ``LoaderProcess`` is ``basirat loader``, both real subprocesses on
loopback, each stopped or killed by its own process group id.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from tests.support.live import BASIRAT, stop_group
from tests.support.servers import free_port


class Process:
    args: list[str] = []

    def __init__(self, warehouse_url: str, spool: Path, env: dict | None = None):
        self.warehouse_url, self.spool = warehouse_url, Path(spool)
        self.env = {"BASIRAT_SPOOL_DIR": str(spool), **(env or {})}
        self.process: subprocess.Popen | None = None

    def start(self):
        self.spool.mkdir(parents=True, exist_ok=True)
        self.log = open(self.spool.parent / f"{type(self).__name__}.log", "ab")
        self.process = subprocess.Popen(
            [*BASIRAT, "--warehouse", self.warehouse_url, *self.args],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **self.env},
        )
        return self

    def stop(self, sig=signal.SIGTERM) -> None:
        stop_group(self.process, sig, timeout=40)
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def kill(self) -> None:
        """SIGKILL the whole process group: the gunicorn master and its workers at once."""
        self.stop(signal.SIGKILL)


class LoaderProcess(Process):
    args = ["loader"]

    def __init__(self, warehouse_url: str, spool: Path, env: dict | None = None):
        super().__init__(
            warehouse_url, spool, {"BASIRAT_LOADER_INTERVAL": "0.2", "BASIRAT_LOADER_MAX_BACKOFF": "1", **(env or {})}
        )


class CollectorProcess(Process):
    def __init__(self, warehouse_url: str, spool: Path, env: dict | None = None, port: int | None = None):
        super().__init__(
            warehouse_url, spool, {"BASIRAT_IP_RATE_LIMIT": "0", "BASIRAT_SITE_RATE_LIMIT": "0", **(env or {})}
        )
        self.port = port or free_port()
        self.args = ["collector", "--port", str(self.port), "--workers", "2"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0):
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"collector exited: {(self.spool.parent / 'CollectorProcess.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return self
            except OSError as exc:
                if getattr(exc, "code", None) == 503:
                    return self
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("collector did not answer /healthz in time")


def make_batches(count: int, size: int = 20) -> list[list[dict]]:
    return [
        [
            {
                "type": "track",
                "event": "Product Viewed",
                "anonymousId": f"v{b % 50}",
                "messageId": uuid.uuid4().hex,
                "properties": {"product_id": f"p{(b * size + i) % 97}", "price": 9.5},
            }
            for i in range(size)
        ]
        for b in range(count)
    ]


def send(
    url: str, write_key: str, batches: list[list[dict]], threads: int = 4, deadline: float = 60.0, results=None
) -> list:
    """POST every batch once (bounded in time); returns each one's status, or "error" when the connection failed.

    ``results``, when given, is filled in place (a caller can watch progress).
    """
    host, port = url.split("//", 1)[1].split(":")
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode(),
        "Content-Type": "application/json",
    }
    results = [None] * len(batches) if results is None else results
    cursor = iter(range(len(batches)))
    lock, stop_at = threading.Lock(), time.monotonic() + deadline

    def worker():
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        while time.monotonic() < stop_at:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            try:
                conn.request("POST", "/v1/batch", body=json.dumps({"batch": batches[index]}), headers=headers)
                response = conn.getresponse()
                response.read()
                results[index] = response.status
                if response.status == 503:
                    results[index] = (503, response.getheader("Retry-After"))
            except (OSError, http.client.HTTPException):
                results[index] = "error"
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def message_ids(batches) -> set[str]:
    return {m["messageId"] for batch in batches for m in batch}
