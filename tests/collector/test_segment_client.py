"""The official Segment Python client, unchanged, against a running ``basirat serve``."""

import datetime as dt
import json

import pytest

from tests.support.live import LiveServer, basirat

pytestmark = pytest.mark.process

segment = pytest.importorskip("segment.analytics")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("live")).start()
    yield live
    live.stop()


def test_segment_client_calls_land_with_properties_context_and_time(server):
    site = json.loads(basirat(server.data, "sites", "create", "Segment shop", "--json").stdout)
    client = segment.Client(site["write_key"], host=server.url, sync_mode=True, max_retries=1)
    errors = []
    client.on_error = lambda error, batch: errors.append(error)
    when = dt.datetime(2026, 2, 14, 9, 30, 0, tzinfo=dt.timezone.utc)
    client.track(
        "user-7",
        "Product Viewed",
        {"product_id": "sku-42", "price": 12.5, "name": "Mug"},
        context={"ip": "203.0.113.9", "locale": "fr-FR"},
        timestamp=when,
        message_id="seg-track-1",
    )
    client.page(
        "user-7",
        "Shop",
        "Home",
        {"url": "https://shop.example/?utm_source=newsletter", "title": "Home"},
        timestamp=when,
        message_id="seg-page-1",
    )
    client.identify("user-7", {"email": "jo@example.com", "plan": "gold"}, timestamp=when, message_id="seg-id-1")
    client.alias("anon-abc", "user-7", timestamp=when, message_id="seg-alias-1")
    client.flush()
    assert errors == []

    query = (
        "SELECT message_id, type, event, name, user_id, previous_id, product_id, price, properties, traits, "
        "context, ip, locale, utm_source, title, library_name, toString(timestamp) AS ts FROM events "
        f"WHERE site_id = '{site['site_id']}' ORDER BY message_id"
    )
    rows = {r["message_id"]: r for r in server.wait_for(query, lambda rows: len(rows) == 4)}
    assert set(rows) == {"seg-track-1", "seg-page-1", "seg-id-1", "seg-alias-1"}
    track = rows["seg-track-1"]
    assert (track["event"], track["product_id"], track["price"]) == ("Product Viewed", "sku-42", 12.5)
    assert json.loads(track["properties"])["name"] == "Mug"
    assert json.loads(track["context"])["library"]["name"] == "analytics-python"
    assert (track["ip"], track["locale"], track["library_name"]) == ("203.0.113.0", "fr-FR", "analytics-python")
    assert all(r["ts"] == "2026-02-14 09:30:00" for r in rows.values())
    assert (rows["seg-page-1"]["name"], rows["seg-page-1"]["utm_source"]) == ("Home", "newsletter")
    assert json.loads(rows["seg-id-1"]["traits"]) == {"email": "jo@example.com", "plan": "gold"}
    assert (rows["seg-alias-1"]["previous_id"], rows["seg-alias-1"]["user_id"]) == ("anon-abc", "user-7")


def test_cli_reaches_the_running_server_and_refuses_writes(server):
    result = basirat(server.data, "sql", "DROP TABLE events", check=False)
    assert result.returncode == 1 and "only read statements" in result.stderr and "Traceback" not in result.stderr
    assert basirat(server.data, "sql", "SELECT 1 AS one", "--format", "CSV").stdout == "1\n"
    # The query's own FORMAT clause used to turn the answer into text the
    # serving process could not decode; it dropped the socket and the CLI
    # printed a traceback.
    result = basirat(server.data, "sql", "SELECT 1 AS one FORMAT Vertical", check=False)
    assert result.returncode == 1 and "--format" in result.stderr and "Traceback" not in result.stderr
    assert basirat(server.data, "sql", "SELECT 2 AS two", "--format", "CSV").stdout == "2\n"
