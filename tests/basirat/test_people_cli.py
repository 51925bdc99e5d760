"""``basirat people …`` as an operator runs it, against a server."""

import json

import pytest

from tests.support.factories import event, load
from tests.support.live import basirat
from warehouse import connect

pytestmark = pytest.mark.process


def test_show_merge_unmerge_export_delete(clickhouse_server, tmp_path):
    url = clickhouse_server.url
    run = lambda *args, **kw: basirat(tmp_path, "--warehouse", url, *args, **kw)  # noqa: E731
    sid = json.loads(run("sites", "create", "Shop", "--json").stdout)["site_id"]
    warehouse = connect(url)
    load(
        warehouse,
        [
            event(sid, 0, anon="d1", type="identify", event="", user_id="ann", traits={"email": "ann@example.com"}),
            event(sid, 1, anon="d2", type="identify", event="", user_id="ben"),
        ],
    )
    run("jobs", "run", "sessions")
    run("jobs", "run", "identity")
    shown = json.loads(run("people", "show", "ann@example.com", "--site", sid).stdout)
    assert {i["identity"] for i in shown["identities"]} >= {"anon:d1", "user:ann"}

    merged = run("people", "merge", "ann", "ben", "--site", sid, "--actor", "ops", "--note", "one household")
    assert "user:ann and user:ben are now p_" in merged.stdout
    assert run("people", "show", "anon:d2", "--site", sid).stdout == run("people", "show", "ann", "--site", sid).stdout
    run("people", "unmerge", "ben", "--site", sid, "--actor", "ops")
    assert json.loads(run("people", "show", "ben", "--site", sid).stdout)["person_id"] != shown["person_id"]

    exported = run("people", "export", "ann", "--site", sid).stdout.splitlines()
    assert {json.loads(line)["table"] for line in exported} >= {"events", "identity_map", "identity_overrides"}
    deleted = run("people", "delete", "ann", "--site", sid, "--yes")
    assert f"{shown['person_id']} erased:" in deleted.stdout and "identities blocked" in deleted.stdout
    missing = run("people", "show", "ann", "--site", sid, check=False)
    assert missing.returncode == 1 and "no person 'ann'" in missing.stderr and "Traceback" not in missing.stderr
    nosite = run("people", "show", "ann", "--site", "s_nope", check=False)
    assert "no site 's_nope'" in nosite.stderr
    warehouse.close()
