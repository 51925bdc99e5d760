"""`basirat demo`, as `make demo` runs it: it must come up, load the real data and say so."""

import signal
import subprocess
import time
import urllib.request

from tests.live import BASIRAT, basirat, stop_group
from tests.servers import free_port


def test_demo_loads_the_store_and_serves_it(tmp_path):
    port = free_port()
    log_path = tmp_path / "demo.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([*BASIRAT, "--data", str(tmp_path), "demo", "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while "Basirat is ready" not in log_path.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()[-3000:]
            time.sleep(1)
        output = log_path.read_text()
        assert "Basirat is ready" in output, output[-3000:]
        assert "demo: failed" not in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
        counts = basirat(tmp_path, "sql", "SELECT count() AS n, uniqExact(message_id) AS ids FROM events",
                         "--format", "CSV").stdout.strip()
        n, ids = (int(x) for x in counts.split(","))
        assert n == ids > 18000
    finally:
        stop_group(process, signal.SIGTERM, timeout=60)
