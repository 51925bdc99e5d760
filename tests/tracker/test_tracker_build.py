"""The tracker bundle: rebuilt from source it matches the served file, and it
stays inside its size budget."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

import collector
from tests.conftest import require
from tests.support import ROOT

TRACKER = ROOT / "tracker"
STATIC = ROOT / "collector" / "static"
BUDGET = 2500  # bytes, minified and gzipped
ECOMMERCE_BUDGET = 1500  # e.js, loaded only by tags with data-ecommerce


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


@pytest.mark.parametrize("name, budget", [("t.js", BUDGET), ("e.js", ECOMMERCE_BUDGET)])
def test_scripts_are_within_their_size_budgets(name, budget):
    size = gzipped_size(STATIC / name)
    assert size <= budget, f"{name} is {size} bytes gzipped, over the {budget}-byte budget"


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    require(shutil.which("node") is not None and shutil.which("npm") is not None, "node and npm")
    if not (TRACKER / "node_modules" / "terser").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=TRACKER, check=True, capture_output=True, timeout=300
        )
    out = tmp_path_factory.mktemp("tracker-build")
    subprocess.run(["node", "build.mjs", str(out)], cwd=TRACKER, check=True, capture_output=True, timeout=120)
    return out


@pytest.mark.process
@pytest.mark.parametrize("name", ["t.js", "e.js", "snippet.js"])
def test_committed_bundle_is_the_build_of_the_source(rebuilt, name):
    assert (rebuilt / name).read_bytes() == (STATIC / name).read_bytes(), (
        f"collector/static/{name} is stale: run `cd tracker && npm ci && node build.mjs`"
    )
    assert gzipped_size(rebuilt / "t.js") <= BUDGET


@pytest.mark.parametrize("name", ["t.js", "e.js"])
def test_bundle_carries_no_secret_and_no_debugging(name):
    text = (STATIC / name).read_text()
    for needle in ("wk_", "pk_", "console.", "debugger", "sourceMappingURL"):
        assert needle not in text


@pytest.fixture
def client(chdb_warehouse, tmp_path):
    app = collector.create_app({"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool")}, warehouse=chdb_warehouse)
    yield app.test_client()
    app.extensions["basirat.collector"].spool.close()


def test_collector_serves_the_tracker_cacheable(client):
    response = client.get("/t.js")
    assert response.status_code == 200
    assert response.data == (STATIC / "t.js").read_bytes()
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "max-age=86400" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get("/t.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get("/t.js", headers={"If-None-Match": '"other"'}).status_code == 200
