"""schemathesis against /api/openapi.json on a real ``basirat serve``: no 5xx, every answer as documented.

Runs the schemathesis CLI in a subprocess (its own Hypothesis settings and
warnings stay out of this pytest process), with a token made by
``basirat users token`` and the real site as the ``site_id`` of every path.
Bounded: a few examples per operation, a timeout on the whole run.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from basirat.demo import send
from tests.support.browser import ARTIFACTS
from tests.support.live import LiveServer, basirat

pytestmark = pytest.mark.process

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,ignored_auth"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("api-live")
    site = json.loads(basirat(data, "sites", "create", "API Shop", "--json").stdout)
    basirat(data, "users", "create", "robot@api.example", "--role", "admin")
    missing = basirat(data, "users", "token", "nobody@api.example", check=False)
    assert missing.returncode != 0 and "no active user" in missing.stderr + missing.stdout
    out = basirat(data, "users", "token", "robot@api.example", "--label", "schemathesis").stdout
    token = re.search(r"^(bt_\S+)$", out, re.M).group(1)
    server = LiveServer(data).start()
    now = dt.datetime.now(dt.timezone.utc)
    messages = [
        {
            "type": "track",
            "event": "Order Completed" if n % 3 == 0 else "Product Viewed",
            "anonymousId": f"a{n % 4}",
            "messageId": f"api-{n}",
            "timestamp": (now - dt.timedelta(days=n % 5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "properties": {"order_id": f"o{n}", "revenue": 10 + n, "currency": "EUR"},
        }
        for n in range(30)
    ]
    send(server.url, site["write_key"], messages, lambda _m: None)
    yield server, site, token, data
    server.stop()


def test_the_token_from_the_cli_reads_the_api(api_server):
    import urllib.request

    server, site, token, _data = api_server
    request = urllib.request.Request(server.url + "/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert [s["site_id"] for s in json.loads(response.read())] == [site["site_id"]]


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(api_server, tmp_path):
    server, site, token, _data = api_server
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.site_id" = "{site["site_id"]}"\n')
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(config),
            "run",
            server.url + "/api/openapi.json",
            "-H",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            "12",
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            "1",
            "--seed",
            "8",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,  # its cache folder stays out of the repo
    )
    report = result.stdout + result.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "schemathesis.txt").write_text(report)
    assert result.returncode == 0, report[-6000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    assert selected and selected.group(1) == selected.group(2) and int(selected.group(2)) >= 8, report[-3000:]
    assert f"Tested: {selected.group(1)}" in report and "No issues found" in report, report[-3000:]
