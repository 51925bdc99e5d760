"""The ingestion steps, on small hand-checkable inputs."""

import datetime as dt
import gzip
import json

import pytest

from collector.pipeline import (
    Rejected,
    anonymize_ip,
    decode_body,
    event_time,
    messages_of,
    parse_json,
    parse_time,
    to_row,
    validate,
)
from core import settings

CONFIG = settings.load(environ={})
RECEIVED = dt.datetime(2026, 5, 1, 12, 0, 0)


def test_gzip_bodies_are_inflated():
    body = json.dumps({"batch": []}).encode()
    assert decode_body(gzip.compress(body), "gzip", 1000) == body


def test_gzip_bomb_is_refused_without_inflating_it_all():
    bomb = gzip.compress(b"0" * 50_000_000)
    with pytest.raises(Rejected) as info:
        decode_body(bomb, "gzip", 500 * 1024)
    assert info.value.reason == "batch_too_large" and info.value.status == 413


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{nope", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b"[1, 2]", "bad_json"),
        (b"[" * 5000 + b"]" * 5000, "bad_json"),
    ],
)
def test_bad_bodies_are_named(body, reason):
    with pytest.raises(Rejected) as info:
        parse_json(body)
    assert info.value.reason == reason


def test_deep_nesting_is_refused():
    doc = cur = {}
    for _ in range(40):
        cur["x"] = {}
        cur = cur["x"]
    with pytest.raises(Rejected, match="nested"):
        parse_json(json.dumps(doc).encode())


@pytest.mark.parametrize(
    "msg, reason",
    [
        ({"type": "jump", "anonymousId": "a"}, "bad_type"),
        ({"type": "track", "event": "X"}, "no_identity"),
        ({"type": "track", "anonymousId": "a"}, "bad_schema"),
        ({"type": "track", "anonymousId": "a", "event": "X", "properties": [1]}, "bad_schema"),
        ({"type": "alias", "userId": "u"}, "bad_schema"),
        ({"type": "track", "anonymousId": {"a": 1}, "event": "X"}, "bad_schema"),
        ({"type": "track", "anonymousId": "a", "event": "X", "properties": {"x": "y" * 40000}}, "message_too_large"),
        ("just a string", "bad_schema"),
    ],
)
def test_invalid_messages_are_named(msg, reason):
    with pytest.raises(Rejected) as info:
        validate(msg, 32 * 1024)
    assert info.value.reason == reason


def test_single_calls_take_their_type_from_the_route():
    assert messages_of({"type": "identify", "userId": "u"}, "track")[0]["type"] == "track"
    with pytest.raises(Rejected):
        messages_of({"batch": "nope"}, None)


def test_device_clock_skew_is_corrected_with_sent_at():
    # The device clock runs an hour fast; the event happened 5 s before sending.
    msg = {"originalTimestamp": "2026-05-01T13:00:00Z", "sentAt": "2026-05-01T13:00:05Z"}
    when, original, flags = event_time(msg, RECEIVED, 300)
    assert when == RECEIVED - dt.timedelta(seconds=5)
    assert original == dt.datetime(2026, 5, 1, 13, 0, 0) and flags == []


def test_explicit_timestamps_are_trusted_as_sent():
    when, _, _ = event_time({"timestamp": "2025-12-24T18:30:00+02:00", "sentAt": "2026-05-01T12:00:00Z"}, RECEIVED, 300)
    assert when == dt.datetime(2025, 12, 24, 16, 30, 0)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", 1e30, float("nan"), "x"])
def test_times_out_of_range_read_as_missing(value):
    assert parse_time(value) is None


def test_far_future_times_are_clamped_and_flagged():
    when, _, flags = event_time({"timestamp": "2030-01-01T00:00:00Z"}, RECEIVED, 300)
    assert when == RECEIVED and flags == ["future_timestamp_clamped"]


def test_ip_anonymization_keeps_the_network_only():
    assert anonymize_ip("203.0.113.77") == "203.0.113.0"
    assert anonymize_ip("2001:db8:abcd:12::1") == "2001:db8:abcd::"
    assert anonymize_ip("not an ip") == ""


def test_an_order_becomes_a_row_with_its_products():
    msg = {
        "type": "track",
        "event": "Order Completed",
        "anonymousId": "a1",
        "userId": "u1",
        "messageId": "m1",
        "properties": {
            "order_id": "o1",
            "total": 27.5,
            "currency": "eur",
            "products": [{"product_id": "p1", "price": 10, "quantity": 2}, {"sku": "p2", "price": 7.5}],
        },
        "context": {
            "page": {"url": "https://shop.example/done?utm_source=mail&utm_campaign=xmas"},
            "userAgent": "Mozilla/5.0",
            "library": {"name": "basirat.js", "version": "1"},
        },
    }
    row = to_row(validate(msg, 32768), "s1", RECEIVED, "198.51.100.9", "", CONFIG)
    assert (row["order_id"], row["revenue"], row["currency"]) == ("o1", 27.5, "EUR")
    assert row["item_ids"] == ["p1", "p2"] and row["item_prices"] == [10.0, 7.5] and row["item_quantities"] == [2, 1]
    assert (row["utm_source"], row["utm_campaign"]) == ("mail", "xmas")
    assert row["ip"] == "198.51.100.0" and row["library_name"] == "basirat.js" and row["is_bot"] == 0


def test_feedback_score_and_bots():
    msg = {
        "type": "track",
        "event": "Feedback Submitted",
        "anonymousId": "a",
        "properties": {"score": 4, "comment": "fast delivery"},
    }
    row = to_row(msg, "s1", RECEIVED, "", "Googlebot/2.1", CONFIG)
    assert row["score"] == 4.0 and row["comment"] == "fast delivery" and row["is_bot"] == 1


def test_messages_without_an_id_get_a_stable_one():
    msg = {"type": "track", "event": "X", "anonymousId": "a", "timestamp": "2026-01-01T00:00:00Z"}
    first = to_row(msg, "s", RECEIVED, "", "", CONFIG)["message_id"]
    again = to_row({**msg, "sentAt": "2026-01-01T00:01:00Z"}, "s", RECEIVED, "", "", CONFIG)["message_id"]
    assert first == again and first.startswith("h-")
