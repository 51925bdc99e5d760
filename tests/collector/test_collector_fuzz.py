"""Thousands of malformed bodies: the collector never answers 5xx and counts every refusal."""

import base64
import gzip
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import collector
from collector.metrics import METRICS
from tests.conftest import new_site

pytestmark = pytest.mark.slow  # thousands of generated bodies

FIELDS = [
    "type", "event", "name", "anonymousId", "userId", "previousId", "groupId", "messageId", "properties",
    "traits", "context", "timestamp", "sentAt", "originalTimestamp", "writeKey", "batch", "products",
]  # fmt: skip
TYPES = ["track", "page", "identify", "alias", "screen", "group", "jump", ""]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(TYPES + ["2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "not a date", "Product Viewed"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner),
    max_leaves=20,
)
messages = st.dictionaries(st.sampled_from(FIELDS), values, max_size=8) | values
documents = st.one_of(
    st.fixed_dictionaries({"batch": st.lists(messages, max_size=6)}),
    st.fixed_dictionaries({"batch": values}),
    messages,
    values,
)


def encode(doc) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


bodies = st.one_of(
    documents.map(encode),
    st.binary(max_size=300),
    documents.map(encode).flatmap(lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda cut: b[:cut])),
    documents.map(encode).map(lambda b: b.replace(b'"', b"\xff", 1)),
    st.integers(1, 3000).map(lambda depth: b'{"batch": [' + b"[" * depth + b"]" * depth + b"]}"),
)


def totals():
    snap = METRICS.snapshot()
    return snap["counters"].get("accepted", 0), sum(snap["rejected"].values())


def test_malformed_bodies_never_5xx_and_always_counted(chdb_warehouse, tmp_path):
    site = new_site(chdb_warehouse)
    app = collector.create_app(
        {"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool"), "IP_RATE_LIMIT": 0, "SITE_RATE_LIMIT": 0},
        warehouse=chdb_warehouse,
    )
    client = app.test_client()
    key = {"Authorization": "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode()}
    seen = {"requests": 0, "accepted": 0}

    @settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=bodies, route=st.sampled_from(["batch", "track", "page", "identify", "alias"]), gz=st.booleans())
    def post(body, route, gz):
        headers = {**key, **({"Content-Encoding": "gzip"} if gz else {})}
        accepted, rejected = totals()
        response = client.post(f"/v1/{route}", data=gzip.compress(body) if gz else body, headers=headers)
        assert response.status_code < 500, (response.status_code, response.get_data()[:300])
        assert response.is_json and isinstance(response.json, dict)
        now_accepted, now_rejected = totals()
        if response.status_code == 200:
            assert now_rejected == rejected
        else:
            assert now_rejected > rejected, response.json  # every refusal is counted by its reason
            assert response.json["error"] in METRICS.snapshot()["rejected"]
        seen["requests"] += 1
        seen["accepted"] += now_accepted - accepted

    post()
    app.extensions["basirat.collector"].spool.close()
    assert seen["requests"] >= 2500
