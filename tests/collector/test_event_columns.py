"""A loader pass's insert columns hold exactly the rows of its messages.

``records.build`` fills the columns in one pass over a pass's requests. Its
rows are checked against rows written out by hand, and against the public
single-message steps (``to_row``, then ``protect``, or ``held_row`` for a
message that makes no row) run on each message alone, so what one message of
a request does (a shared time, a refused message in the middle) never
reaches its neighbours' rows.
"""

import datetime as dt
import json

import pytest

from collector import records
from collector.pipeline import Rejected, protect, to_row
from core import settings
from warehouse.queries.events import EVENT_COLUMNS

CONFIG = {**settings.load(environ={}), "SECRET_KEY": "test-salt"}
RECEIVED = dt.datetime(2026, 11, 25, 10, 0, 5, 250000)
SECOND = dt.datetime(2026, 11, 25, 10, 0, 5)
TEN = dt.datetime(2026, 11, 25, 10, 0, 0)

# As bench/post_events.lua posts them, with the batch's sentAt that intake copies into each message.
VIEWED = {
    "sentAt": "2026-11-25T10:00:00.000Z",
    "type": "track",
    "event": "Product Viewed",
    "anonymousId": "visitor-7",
    "messageId": "run-1-7",
    "timestamp": "2026-11-25T10:00:00.000Z",
    "properties": {"product_id": "sku-7", "name": "Blue mug", "category": "Kitchen", "price": 12.5, "currency": "EUR"},
    "context": {
        "page": {
            "url": "https://shop.example/p/7",
            "path": "/p/7",
            "referrer": "https://shop.example/",
            "title": "Blue mug",
        },
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
        "locale": "fr-FR",
        "library": {"name": "basirat.js", "version": "0.1.0"},
    },
}
PAGE_WITH_UTM = {
    "type": "page",
    "anonymousId": "a2",
    "messageId": "p-1",
    "timestamp": "2026-11-25T11:00:00+01:00",
    "properties": {"url": "https://shop.example/?utm_source=mail&utm_campaign=xmas", "title": "Home"},
    "context": {"page": {"url": "https://shop.example/", "path": "/", "referrer": "https://search.example/"}},
}
CLAIMED_ORDER = {
    "type": "track",
    "event": "Order Completed",
    "userId": "u1",
    "messageId": "o-1",
    "originalTimestamp": "2026-11-25T10:59:58Z",
    "sentAt": "2026-11-25T11:00:00Z",
    "properties": {
        "order_id": "o1",
        "total": 27.5,
        "currency": "eur",
        "products": [{"product_id": "p1", "price": 10, "quantity": 2}, {"sku": "p2", "price": "7.5"}, "junk", {}],
    },
    "context": {
        "campaign": {"source": "news", "name": "spring"},
        "ip": "198.51.100.77",
        "userHash": "not checked here",
    },
}
FEEDBACK = {
    "type": "track",
    "event": "Feedback Submitted",
    "anonymousId": "a4",
    "messageId": "f-1",
    "properties": {"score": "4", "comment": "fast delivery"},
    "context": {"userAgent": "Googlebot/2.1"},
}
IDENTIFY = {
    "type": "identify",
    "userId": "u5",
    "anonymousId": "a5",
    "messageId": "i-1",
    "traits": {"email": "x@example.com"},
    "context": {"userHash": "checked at intake"},
}
NO_MESSAGE_ID = {"type": "track", "event": "X", "anonymousId": "a6", "timestamp": "2026-11-25T09:00:00Z"}
BAD_TIME = {"type": "track", "event": "X", "anonymousId": "a7", "messageId": "t-1", "timestamp": "not a date"}
FUTURE = {"type": "track", "event": "X", "anonymousId": "a8", "messageId": "t-2", "timestamp": "2030-01-01T00:00:00Z"}
OPTED_OUT = {
    "type": "track",
    "event": "Product Viewed",
    "anonymousId": "a9",
    "userId": "u9",
    "messageId": "n-1",
    "context": {"ip": "198.51.100.9", "userAgent": "Mozilla/5.0", "device": {"id": "d1"}, "locale": "de-DE"},
}
LONG_ID = {"type": "track", "event": "X", "anonymousId": "a10", "messageId": "m" * 600}
HUGE_NUMBER = {"type": "track", "event": "X", "anonymousId": "a11", "messageId": "b-1", "properties": {"n": 2**70}}


def request(messages, opt_out=False, trust=None, ip="203.0.113.0", agent=""):
    return records.request_record(messages, "s1", RECEIVED, ip, agent, opt_out, trust)


ITEMS = [
    request([VIEWED, {**VIEWED, "messageId": "run-1-8", "anonymousId": "visitor-8"}]),
    request([PAGE_WITH_UTM, LONG_ID, FEEDBACK], trust={"by": "server"}),
    request([CLAIMED_ORDER, IDENTIFY], trust={"by": "browser", "verified": ["u5"]}, agent="Mozilla/5.0 (Macintosh)"),
    request([NO_MESSAGE_ID, BAD_TIME, FUTURE, HUGE_NUMBER], trust={"by": "open"}),
    request([OPTED_OUT], opt_out=True, ip="", agent=""),
]


def row(**values) -> dict:
    """A row as written out by hand: a plain browser event of site s1, received at RECEIVED."""
    plain = {**EVENT_COLUMNS, "site_id": "s1", "type": "track", "timestamp": TEN, "original_timestamp": TEN}
    return {**plain, "sent_at": SECOND, "received_at": SECOND, "ip": "203.0.113.0", **values}


VIEWED_ROW = row(
    message_id="run-1-7",
    event="Product Viewed",
    anonymous_id="visitor-7",
    sent_at=TEN,
    url="https://shop.example/p/7",
    path="/p/7",
    referrer="https://shop.example/",
    title="Blue mug",
    user_agent="Mozilla/5.0 (X11; Linux x86_64)",
    locale="fr-FR",
    library_name="basirat.js",
    library_version="0.1.0",
    properties='{"product_id":"sku-7","name":"Blue mug","category":"Kitchen","price":12.5,"currency":"EUR"}',
    context='{"page":{"url":"https://shop.example/p/7","path":"/p/7","referrer":"https://shop.example/",'
    '"title":"Blue mug"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","locale":"fr-FR",'
    '"library":{"name":"basirat.js","version":"0.1.0"}}',
    product_id="sku-7",
    product_name="Blue mug",
    category="Kitchen",
    price=12.5,
    currency="EUR",
)
EXPECTED = [
    VIEWED_ROW,
    {**VIEWED_ROW, "message_id": "run-1-8", "anonymous_id": "visitor-8"},
    row(
        message_id="p-1",
        type="page",
        anonymous_id="a2",
        url="https://shop.example/?utm_source=mail&utm_campaign=xmas",
        path="/",
        referrer="https://search.example/",
        title="Home",
        utm_source="mail",
        utm_campaign="xmas",
        properties='{"url":"https://shop.example/?utm_source=mail&utm_campaign=xmas","title":"Home"}',
        context='{"page":{"url":"https://shop.example/","path":"/","referrer":"https://search.example/"}}',
        flags=["server"],
    ),
    row(
        message_id="f-1",
        event="Feedback Submitted",
        anonymous_id="a4",
        timestamp=SECOND,
        timestamp_ms=250,
        original_timestamp=SECOND,
        user_agent="Googlebot/2.1",
        properties='{"score":"4","comment":"fast delivery"}',
        context='{"userAgent":"Googlebot/2.1"}',
        score=4.0,
        comment="fast delivery",
        is_bot=1,
        flags=["server"],
    ),
    row(
        message_id="o-1",
        event="Order Completed",
        anonymous_id="claimed-0326c041cf2a55dc4d5ad7e8",
        user_id="u1",
        timestamp=dt.datetime(2026, 11, 25, 10, 0, 3),
        timestamp_ms=250,
        original_timestamp=dt.datetime(2026, 11, 25, 10, 59, 58),
        sent_at=dt.datetime(2026, 11, 25, 11, 0, 0),
        user_agent="Mozilla/5.0 (Macintosh)",
        ip="198.51.100.0",
        utm_source="news",
        utm_campaign="spring",
        properties='{"order_id":"o1","total":27.5,"currency":"eur","products":[{"product_id":"p1","price":10,'
        '"quantity":2},{"sku":"p2","price":"7.5"},"junk",{}]}',
        context='{"campaign":{"source":"news","name":"spring"},"ip":"198.51.100.0"}',
        order_id="o1",
        revenue=27.5,
        currency="EUR",
        item_ids=["p1", "p2"],
        item_prices=[10.0, 7.5],
        item_quantities=[2, 1],
        flags=["claimed"],
    ),
    row(
        message_id="i-1",
        type="identify",
        anonymous_id="a5",
        user_id="u5",
        timestamp=SECOND,
        timestamp_ms=250,
        original_timestamp=SECOND,
        user_agent="Mozilla/5.0 (Macintosh)",
        traits='{"email":"x@example.com"}',
        flags=["claimed_traits"],
    ),
    row(
        message_id="h-6070e15e9f6444a04a91115c5d6e4d9b",
        event="X",
        anonymous_id="a6",
        timestamp=dt.datetime(2026, 11, 25, 9, 0, 0),
        original_timestamp=dt.datetime(2026, 11, 25, 9, 0, 0),
    ),
    row(
        message_id="t-1",
        event="X",
        anonymous_id="a7",
        timestamp=SECOND,
        timestamp_ms=250,
        original_timestamp=SECOND,
        flags=["bad_timestamp"],
    ),
    row(
        message_id="t-2",
        event="X",
        anonymous_id="a8",
        timestamp=SECOND,
        timestamp_ms=250,
        original_timestamp=dt.datetime(2030, 1, 1),
        flags=["future_timestamp_clamped"],
    ),
    row(
        message_id="n-1",
        event="Product Viewed",
        anonymous_id="optout-41bee30123348bba42529142",
        timestamp=SECOND,
        timestamp_ms=250,
        original_timestamp=SECOND,
        ip="",
        locale="de-DE",
        context='{"locale":"de-DE"}',
        flags=["claimed", "opt_out"],
    ),
]
HELD = [
    ("a10", "bad_schema", "messageId is longer than 512 characters"),
    ("a11", "bad_schema", "Integer exceeds 64-bit range"),
]


def rows_of(columns: dict[str, list]) -> list[dict]:
    assert list(columns) == list(EVENT_COLUMNS)
    assert {len(values) for values in columns.values()} == {len(columns["message_id"])}
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def one_at_a_time(items: list[dict], config: dict) -> tuple[list[dict], list[dict]]:
    """Rows and quarantine rows built a message at a time with the public single-message steps."""
    rows, held = [], []
    for item in items:
        received = dt.datetime.fromisoformat(item["received_at"])
        for msg in item["messages"]:
            sender = (item["site_id"], received, item["ip"], item["user_agent"])
            try:
                built = to_row(msg, *sender, config, item["trust"])
                rows.append(protect(built, config, item["opt_out"]))
            except (Rejected, KeyError, TypeError, ValueError) as exc:
                reason, detail = getattr(exc, "reason", "bad_schema"), getattr(exc, "detail", str(exc))
                held.append(records.held_row(msg, reason, detail, *sender, config["ANONYMIZE_IP"]))
    return rows, held


def without_ids(held: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "quarantine_id"} for row in held]


def test_a_pass_builds_the_rows_written_out_by_hand():
    columns, held = records.build(ITEMS, CONFIG)
    rows = rows_of(columns)
    assert len(rows) == len(EXPECTED)
    for got, expected in zip(rows, EXPECTED):
        assert got == expected, got["message_id"]
    assert [(json.loads(h["raw"])["anonymousId"], h["reason"], h["detail"]) for h in held] == HELD
    assert [h["site_id"] for h in held] == ["s1", "s1"] and all(h["received_at"] == SECOND for h in held)


@pytest.mark.parametrize("anonymize", [True, False])
def test_a_pass_equals_its_messages_built_one_at_a_time(anonymize):
    config = {**CONFIG, "ANONYMIZE_IP": anonymize}
    times = [True, 1, 1.0, 1764064800000, 1764064800000.0, "2026-11-25T10:00:00Z", [1], {"t": 1}, None]
    timed = request([{**BAD_TIME, "timestamp": t, "messageId": f"t-{t}"} for t in times] + [CLAIMED_ORDER] * 2)
    extra = [
        {"site_id": "s1", "message_id": "spooled-row", "received_at": "2026-11-25 10:00:00"},  # an older spool's row
        {"_kind": records.QUARANTINE, "site_id": "s1", "reason": "bad_type", "raw": "{}"},
    ]
    columns, held = records.build([*ITEMS, timed, *extra], config)
    rows, alone_held = one_at_a_time([*ITEMS, timed], config)
    old_row = {**EVENT_COLUMNS, **extra[0], "received_at": TEN}
    assert rows_of(columns) == [*rows, old_row]
    assert without_ids(held) == without_ids([*alone_held, extra[1]])
