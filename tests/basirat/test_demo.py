"""`make demo` from a clean copy of the tree, with nothing beside it: it must come up, load the
shipped data and serve the store and the admin."""

import os
import shlex
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.live import BASIRAT, LiveServer, stop_group
from tests.support.servers import free_port

pytestmark = pytest.mark.process


def clean_copy(dest: Path) -> Path:
    """The files a fresh clone has (tracked, or new and not ignored), and nothing else."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def wait_for(log: Path, text: str, process: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while text not in log.read_text() and time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        time.sleep(1)
    return log.read_text()


@pytest.mark.slow
def test_make_demo_works_from_a_clean_copy_with_nothing_beside_it(tmp_path):
    tree = clean_copy(tmp_path / "basirat")
    assert not (tree.parent / "shared").exists()
    port = free_port()
    log_path = tmp_path / "demo.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BASIRAT_", "VIRTUAL_ENV", "PYTHON"))}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["make", "demo", f"PORT={port}"],
            cwd=tree,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        output = wait_for(log_path, "Basirat is ready", process, timeout=900)
        assert "Basirat is ready" in output, output[-3000:]
        assert "demo: failed" not in output
        for path, text in (("/store/", "Gifts"), ("/login", "Sign in")):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                assert response.status == 200 and text in response.read().decode()
        count = subprocess.run(
            [
                str(tree / ".venv/bin/basirat"),
                "--data",
                "demo-data",
                "sql",
                "SELECT count() AS n, uniqExact(message_id) AS ids FROM events",
                "--format",
                "CSV",
            ],
            cwd=tree,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        n, ids = (int(x) for x in count.strip().split(","))
        assert n == ids > 18000
        # The query the demo prints for the operator runs as printed, from the folder it was started in.
        lines = output.splitlines()
        printed = lines[lines.index("  query it from another terminal:") + 1]
        answer = subprocess.run(shlex.split(printed), cwd=tree, capture_output=True, text=True, timeout=120)
        assert answer.returncode == 0 and "Order Completed" in answer.stdout, printed + answer.stderr
    finally:
        stop_group(process, signal.SIGINT, timeout=60)


def test_a_worker_that_cannot_boot_stops_the_command_at_once_with_the_reason(tmp_path):
    """ClickHouse unreachable at start: one line saying so, a non-zero exit, no hang, no traceback."""
    env = {**os.environ, "BASIRAT_WAREHOUSE_URL": f"clickhouse://127.0.0.1:{free_port()}/basirat"}
    started = time.monotonic()
    done = subprocess.run(
        [*BASIRAT, "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and time.monotonic() - started < 30
    reasons = [line for line in done.stderr.splitlines() if "basirat cannot start" in line]
    assert len(reasons) == 1 and "cannot reach ClickHouse" in reasons[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr + done.stdout


def test_serve_runs_without_the_demo_store_and_says_where_it_is(tmp_path):
    live = LiveServer(tmp_path).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(live.url + "/store/", timeout=10)
        assert answer.value.code == 404 and b"basirat demo" in answer.value.read()
    finally:
        live.stop()
