"""The CLI as a user runs it: clear output, clear errors, no tracebacks."""

import json

import pytest

from tests.support.live import basirat

pytestmark = pytest.mark.process


def test_sites_create_prints_keys_as_json(tmp_path):
    out = json.loads(basirat(tmp_path, "sites", "create", "Corner shop", "--domain", "corner.example", "--json").stdout)
    assert out["site_id"].startswith("s_") and out["write_key"].startswith("wk_")
    listed = basirat(tmp_path, "sites", "list", "--json").stdout
    assert json.loads(listed) == [{"site_id": out["site_id"], "name": "Corner shop", "domains": ["corner.example"]}]


def test_sql_against_a_server(clickhouse_server, tmp_path):
    result = basirat(
        tmp_path, "--warehouse", clickhouse_server.url, "sql", "SELECT 1 AS one, 'x' AS s", "--format", "JSONEachRow"
    )
    assert json.loads(result.stdout) == {"one": 1, "s": "x"}


def test_errors_are_one_clear_line(tmp_path):
    for args, expected in [
        (("--warehouse", "mysql://nope", "migrate"), "unsupported warehouse URL"),
        (("--warehouse", "clickhouse://127.0.0.1:1/x", "migrate"), "cannot reach ClickHouse"),
        (("sql", "SELECT * FROM nowhere"), "nowhere"),
        (("jobs", "run", "nothing"), "no job 'nothing'"),
        (("jobs", "run", "--site", "s_nowhere"), "no site 's_nowhere'"),
    ]:
        result = basirat(tmp_path, *args, check=False)
        assert result.returncode != 0, args
        assert expected in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)


def test_jobs_run_mines_only_the_sites_named(tmp_path):
    made = [json.loads(basirat(tmp_path, "sites", "create", name, "--json").stdout) for name in ("One", "Two")]
    one, two = (site["site_id"] for site in made)
    ran = basirat(tmp_path, "jobs", "run", "sessions", "--site", one).stdout
    assert f"sessions: {one}:" in ran and two not in ran


def test_bad_environment_setting_is_reported(tmp_path):
    result = basirat(tmp_path, "sites", "list", check=False, env={"BASIRAT_PORT": "eighty"})
    assert result.returncode == 1 and "BASIRAT_PORT" in result.stderr and "Traceback" not in result.stderr
