"""The ingestion pipeline: small named steps from HTTP body to warehouse row.

Each step either returns its result or raises ``Rejected`` with a reason code
from ``REASONS``; the reason is what the client sees and what is counted.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import json
import re
import zlib
from urllib.parse import parse_qs, urlsplit

import orjson

from core.events import TYPES

REASONS = {
    "bad_json": 400,
    "bad_encoding": 400,
    "bad_schema": 400,
    "bad_type": 400,
    "no_identity": 400,
    "missing_write_key": 401,
    "unknown_write_key": 401,
    "message_too_large": 413,
    "batch_too_large": 413,
    "rate_limited": 429,
    "spool_full": 503,
    "keys_unavailable": 503,
}
MAX_ID = 512
MAX_DEPTH = 32
BOT = re.compile(r"bot|crawl|spider|slurp|headless|phantom|lighthouse|curl/|wget|python-requests|scrapy", re.I)


EARLIEST = dt.datetime(1971, 1, 1)


class Rejected(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail, self.status = reason, detail, REASONS[reason]


# -- body ---------------------------------------------------------------------


def decode_body(raw: bytes, encoding: str, limit: int) -> bytes:
    """Undo Content-Encoding, refusing to inflate past ``limit`` (gzip bombs)."""
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise Rejected("bad_encoding", f"unsupported Content-Encoding {encoding!r}")
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise Rejected("bad_encoding", "body is not valid gzip") from None
    if len(out) > limit:
        raise Rejected("batch_too_large", f"decompressed body is over {limit} bytes")
    return out


def parse_json(body: bytes) -> dict:
    """The body as a JSON object (orjson: strict RFC 8259, so every accepted
    string can be written back as UTF-8; a lone surrogate escape is refused)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected("bad_json", "body is not valid UTF-8") from None
        raise Rejected("bad_json", f"body is not valid JSON ({str(exc).split(':', 1)[0]})") from None
    if not isinstance(doc, dict):
        raise Rejected("bad_json", "body must be a JSON object")
    if _too_deep(doc):
        raise Rejected("bad_schema", f"body is nested deeper than {MAX_DEPTH} levels")
    return doc


def _too_deep(doc) -> bool:
    """Whether any value sits deeper than ``MAX_DEPTH`` containers.

    Iterative, and only containers are pushed: this runs on every request,
    and a batch holds a hundred small objects whose leaves need no visit.
    """
    stack = [(doc, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        value, level = pop()
        children = value.values() if type(value) is dict else value
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                if level >= MAX_DEPTH:
                    return True
                push((child, level + 1))
    return False


def messages_of(doc: dict, route_type: str | None) -> list:
    """The messages of a request: ``batch`` for /v1/batch, the body itself otherwise."""
    if route_type is None:
        batch = doc.get("batch")
        if not isinstance(batch, list):
            raise Rejected("bad_schema", "batch must be a list of messages")
        # A batch-level sentAt (Segment's libraries put it there) applies to each message.
        sent_at = doc.get("sentAt")
        if sent_at is not None:
            batch = [{"sentAt": sent_at, **m} if isinstance(m, dict) else m for m in batch]
        return batch
    return [{**doc, "type": route_type}]


# -- one message --------------------------------------------------------------


def _text_id(value, field: str) -> str:
    """An id as text, refused when it is not a string or number or is too long."""
    if type(value) is str and len(value) <= MAX_ID:
        return value
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Rejected("bad_schema", f"{field} must be a string")
    text = str(value)
    if len(text) > MAX_ID:
        raise Rejected("bad_schema", f"{field} is longer than {MAX_ID} characters")
    return text


def _object(msg: dict, field: str) -> dict:
    value = msg.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected("bad_schema", f"{field} must be an object")
    return value


def validate(msg, max_bytes: int, check_size: bool = True) -> dict:
    """Check one message against the Segment spec; returns it unchanged.

    ``check_size=False`` skips measuring the message when the whole body is
    already known to be under ``max_bytes``. Written as straight-line type
    checks because it runs for every message of every request.
    """
    if type(msg) is not dict:
        raise Rejected("bad_schema", "each message must be a JSON object")
    if check_size and len(orjson.dumps(msg)) > max_bytes:
        raise Rejected("message_too_large", f"message is over {max_bytes} bytes")
    get = msg.get
    kind = get("type")
    if kind not in TYPES:
        raise Rejected("bad_type", f"type must be one of {', '.join(TYPES)}")
    if not (_text_id(get("anonymousId"), "anonymousId") or _text_id(get("userId"), "userId")):
        raise Rejected("no_identity", "anonymousId or userId is required")
    event = get("event")
    if kind == "track" and not (type(event) is str and event.strip()):
        raise Rejected("bad_schema", "track needs an event name")
    if kind == "alias" and not (_text_id(get("previousId"), "previousId") and get("userId")):
        raise Rejected("bad_schema", "alias needs previousId and userId")
    _check_types(get)
    return msg


def _check_types(get) -> None:
    for field in ("properties", "traits", "context"):
        value = get(field)
        if value is not None and type(value) is not dict:
            raise Rejected("bad_schema", f"{field} must be an object")
    for field in ("event", "name"):
        value = get(field)
        if value is not None and type(value) is not str:
            raise Rejected("bad_schema", f"{field} must be a string")
    for field in ("messageId", "previousId", "groupId"):
        value = get(field)
        if value is not None and not (type(value) is str and len(value) <= MAX_ID):
            _text_id(value, field)


# -- enrichment ---------------------------------------------------------------


def parse_time(value) -> dt.datetime | None:
    """An ISO 8601 time (or epoch milliseconds) as naive UTC, or None."""
    if isinstance(value, bool) or value is None:
        return None
    if type(value) is str:
        return _parse_iso(value) if value else None
    if not isinstance(value, (int, float)):
        return None
    try:
        return _naive_utc(dt.datetime.fromtimestamp(value / 1000.0, dt.timezone.utc))
    except (ValueError, OverflowError, OSError):
        return None


@functools.lru_cache(maxsize=8192)
def _parse_iso(text: str) -> dt.datetime | None:
    """Cached: the messages of a batch share their ``sentAt``, and often their timestamps."""
    try:
        return _naive_utc(dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        return None


def _naive_utc(parsed: dt.datetime) -> dt.datetime | None:
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if not EARLIEST <= parsed <= dt.datetime(2105, 1, 1):
        return None
    return parsed


def event_time(msg: dict, received: dt.datetime, max_future: float) -> tuple[dt.datetime, dt.datetime, list[str]]:
    """When it happened, corrected for the device clock.

    As Segment does: timestamp = receivedAt - (sentAt - originalTimestamp), so
    a phone whose clock is an hour off still lands at the right moment.
    Returns (timestamp, original timestamp, flags).
    """
    flags = []
    original = parse_time(msg.get("originalTimestamp")) or parse_time(msg.get("timestamp"))
    sent = parse_time(msg.get("sentAt"))
    if original is None:
        original = received
        if msg.get("timestamp") or msg.get("originalTimestamp"):
            flags.append("bad_timestamp")
    if sent is not None and msg.get("originalTimestamp") is not None:
        when = received - (sent - original)
    elif sent is not None and msg.get("timestamp") is None:
        when = received
    else:
        when = original
    if (when - received).total_seconds() > max_future:
        flags.append("future_timestamp_clamped")
        when = received
    if when < EARLIEST:
        # A skew correction can land before what a DateTime column holds.
        flags.append("bad_timestamp")
        when = original
    return when, original, flags


@functools.lru_cache(maxsize=4096)
def _is_bot(user_agent: str) -> int:
    """Cached: a site's traffic comes from a few thousand distinct user agents."""
    return 1 if BOT.search(user_agent) else 0


@functools.lru_cache(maxsize=4096)
def anonymize_ip(text: str) -> str:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return ""
    if ip.version == 4:
        return str(ipaddress.ip_network(f"{ip}/24", strict=False).network_address)
    return str(ipaddress.ip_network(f"{ip}/48", strict=False).network_address)


def _str(value, limit: int = 2048) -> str:
    if type(value) is str:
        return value if len(value) <= limit else value[:limit]
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)[:limit]


def _num(value) -> float:
    """A number for a Float64 column, 0 for anything else. An absent value
    (the most common) is answered first: ``float(None)`` raising and being
    caught costs ten times the check."""
    if value is None or isinstance(value, bool):
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number == number and abs(number) < 1e15 else 0.0


def _quantity(value) -> int:
    """A count for a UInt32 column: a whole number from 0 to a million, 0 when absent."""
    return 0 if value is None else max(0, min(int(_num(value)), 1_000_000))


def _json(value) -> str:
    """Compact JSON text for a stored column (orjson: the loader builds every row)."""
    return orjson.dumps(value, default=str).decode()


NO_CAMPAIGN = {"source": "", "medium": "", "name": "", "term": "", "content": ""}


def _campaign(context: dict, url: str) -> dict:
    campaign = context.get("campaign") if isinstance(context.get("campaign"), dict) else {}
    if not campaign and "utm_" not in url:
        return NO_CAMPAIGN  # most events; read only
    query = parse_qs(urlsplit(url).query) if "utm_" in url else {}
    out = {}
    for key in ("source", "medium", "name", "term", "content"):
        value = campaign.get(key) or (query.get(f"utm_{key if key != 'name' else 'campaign'}") or [""])[0]
        out[key] = _str(value, 512)
    return out


def _products(props: dict) -> tuple[list[str], list[float], list[int]]:
    products = props.get("products")
    if not isinstance(products, list):
        return [], [], []
    ids, prices, quantities = [], [], []
    for item in products[:500]:
        if not isinstance(item, dict):
            continue
        item_id = _str(item.get("product_id") or item.get("id") or item.get("sku"), MAX_ID)
        if item_id:
            ids.append(item_id)
            prices.append(_num(item.get("price")))
            quantities.append(_quantity(item.get("quantity") or 1))
    return ids, prices, quantities


def to_row(
    msg: dict,
    site_id: str,
    received: dt.datetime,
    request_ip: str,
    request_ua: str,
    settings: dict,
    trust: dict | None = None,
) -> dict:
    """The warehouse row for one valid message, before the privacy step (``protect``).

    ``EventColumns`` holding the one row, so a row built alone is the row a
    loader pass builds. ``trust`` is what intake decided about the request's
    ids (``collector.trust``); without it the message counts as a browser's
    with no verified user id.
    """
    columns = EventColumns(settings)
    failed = columns.add([msg], site_id, received, request_ip, request_ua, trust, protected=False)
    if failed:
        raise failed[0][1]
    return columns.row(0)


class EventColumns:
    """A loader pass's events as insert columns (``warehouse.queries.events.EVENT_COLUMNS``).

    Each message's values are appended to one list per column, in one pass
    over the messages: the loader inserts columns, and a ~50-key dict per
    row, turned into columns afterwards, would cost as much CPU again as the
    values themselves. What the messages of a request share is looked up
    once per request.
    """

    def __init__(self, settings: dict):
        from warehouse.queries.events import EVENT_COLUMNS

        self.settings = settings
        self.anonymize = settings["ANONYMIZE_IP"]
        self.max_future = settings["MAX_FUTURE_SECONDS"]
        self.columns: dict[str, list] = {name: [] for name in EVENT_COLUMNS}

    def row(self, index: int) -> dict:
        return {name: values[index] for name, values in self.columns.items()}

    def add_row(self, row: dict) -> None:
        """Append a row built elsewhere (an events row an earlier version spooled)."""
        for name, values in self.columns.items():
            values.append(row[name])

    def _pop_row(self) -> dict:
        return {name: values.pop() for name, values in self.columns.items()}

    def add(
        self,
        messages: list[dict],
        site_id: str,
        received: dt.datetime,
        request_ip: str,
        request_ua: str,
        trust: dict | None = None,
        opt_out: bool = False,
        protected: bool = True,
    ) -> list[tuple[dict, Exception]]:
        """Append the rows of one request's valid messages, through the privacy step
        (``protect``) unless ``protected`` is false.

        Returns ``(message, error)`` for each message that makes no row (``Rejected``,
        or a value the row cannot hold); its values are taken out of the columns again.
        """
        columns, failed, seen_times = self.columns, [], {}
        anonymize, message_ids = self.anonymize, columns["message_id"]
        add_site_id = columns["site_id"].append
        add_message_id = message_ids.append
        add_type = columns["type"].append
        add_event = columns["event"].append
        add_name = columns["name"].append
        add_anonymous_id = columns["anonymous_id"].append
        add_user_id = columns["user_id"].append
        add_previous_id = columns["previous_id"].append
        add_group_id = columns["group_id"].append
        add_timestamp = columns["timestamp"].append
        add_timestamp_ms = columns["timestamp_ms"].append
        add_original_timestamp = columns["original_timestamp"].append
        add_sent_at = columns["sent_at"].append
        add_received_at = columns["received_at"].append
        add_url = columns["url"].append
        add_path = columns["path"].append
        add_referrer = columns["referrer"].append
        add_title = columns["title"].append
        add_search = columns["search"].append
        add_user_agent = columns["user_agent"].append
        add_ip = columns["ip"].append
        add_locale = columns["locale"].append
        add_utm_source = columns["utm_source"].append
        add_utm_medium = columns["utm_medium"].append
        add_utm_campaign = columns["utm_campaign"].append
        add_utm_term = columns["utm_term"].append
        add_utm_content = columns["utm_content"].append
        add_library_name = columns["library_name"].append
        add_library_version = columns["library_version"].append
        add_properties = columns["properties"].append
        add_traits = columns["traits"].append
        add_context = columns["context"].append
        add_product_id = columns["product_id"].append
        add_product_name = columns["product_name"].append
        add_category = columns["category"].append
        add_price = columns["price"].append
        add_quantity = columns["quantity"].append
        add_order_id = columns["order_id"].append
        add_revenue = columns["revenue"].append
        add_currency = columns["currency"].append
        add_query = columns["query"].append
        add_item_ids = columns["item_ids"].append
        add_item_prices = columns["item_prices"].append
        add_item_quantities = columns["item_quantities"].append
        add_score = columns["score"].append
        add_comment = columns["comment"].append
        add_is_bot = columns["is_bot"].append
        add_flags = columns["flags"].append
        for msg in messages:
            count = len(message_ids)
            try:
                get = msg.get
                props, traits, context = get("properties"), get("traits"), get("context")
                props = props if type(props) is dict else _object(msg, "properties")
                traits = traits if type(traits) is dict else _object(msg, "traits")
                context = context if type(context) is dict else _object(msg, "context")
                if "userHash" in context:  # a credential for that user id: checked at intake, never stored
                    context = {k: v for k, v in context.items() if k != "userHash"}
                page = context.get("page")
                page = page if isinstance(page, dict) else {}
                kind = msg["type"]
                if kind == "page":
                    page = {
                        **page,
                        **{k: props[k] for k in ("url", "path", "referrer", "title", "search") if k in props},
                    }
                library = context.get("library")
                library = library if isinstance(library, dict) else {}
                timestamp, timestamp_ms, original, sent_at, received_at, time_flags = self._times(
                    msg, received, seen_times
                )
                user_agent = _str(context.get("userAgent") or request_ua, 1024)
                ip = _str(context.get("ip") or request_ip, 64)
                url = _str(page.get("url"))
                campaign = _campaign(context, url)
                ids, prices, quantities = _products(props) if "products" in props else ([], [], [])
                message_id = _text_id(get("messageId"), "messageId") or content_id(msg)
                event = get("event")
                score = props.get("score") if kind == "track" and event == "Feedback Submitted" else None
                user_id = _text_id(get("userId"), "userId")
                anonymous_id = _text_id(get("anonymousId"), "anonymousId")
                traits = traits or _object(context, "traits")
                trusted = trust_flags(user_id, traits, trust)
                if "claimed" in trusted and not anonymous_id:
                    anonymous_id = claimed_visitor(site_id, user_id)
                add_site_id(site_id)
                add_message_id(message_id)
                add_type(kind)
                add_event(_str(event, 256))
                add_name(_str(get("name"), 256))
                add_anonymous_id(anonymous_id)
                add_user_id(user_id)
                add_previous_id(_text_id(get("previousId"), "previousId"))
                add_group_id(_text_id(get("groupId"), "groupId"))
                add_timestamp(timestamp)
                add_timestamp_ms(timestamp_ms)
                add_original_timestamp(original)
                add_sent_at(sent_at)
                add_received_at(received_at)
                add_url(url)
                add_path(_str(page.get("path")))
                add_referrer(_str(page.get("referrer")))
                add_title(_str(page.get("title"), 1024))
                add_search(_str(page.get("search")))
                add_user_agent(user_agent)
                add_ip(anonymize_ip(ip) if anonymize else ip)
                add_locale(_str(context.get("locale"), 32))
                add_utm_source(campaign["source"])
                add_utm_medium(campaign["medium"])
                add_utm_campaign(campaign["name"])
                add_utm_term(campaign["term"])
                add_utm_content(campaign["content"])
                add_library_name(_str(library.get("name"), 64))
                add_library_version(_str(library.get("version"), 32))
                add_properties(_json(props))
                add_traits(_json(traits) if traits else "{}")
                add_context(_json(context))
                add_product_id(_str(props.get("product_id") or props.get("sku") or props.get("id"), MAX_ID))
                add_product_name(_str(props.get("name"), 512) if kind == "track" else "")
                add_category(_str(props.get("category"), 256))
                add_price(_num(props.get("price")))
                add_quantity(_quantity(props.get("quantity")))
                add_order_id(_str(props.get("order_id"), MAX_ID))
                revenue = props.get("revenue")
                add_revenue(_num(revenue if revenue is not None else props.get("total")))
                add_currency(_str(props.get("currency"), 8).upper())
                add_query(_str(props.get("query"), 512))
                add_item_ids(ids)
                add_item_prices(prices)
                add_item_quantities(quantities)
                add_score(_num(score) if score is not None and not isinstance(score, (dict, list)) else None)
                add_comment(_str(props.get("comment"), 4096) if score is not None else "")
                add_is_bot(_is_bot(user_agent))
                add_flags([*time_flags, *trusted])
                if protected and (opt_out or (anonymize and isinstance(context.get("ip"), str))):
                    self.add_row(protect(self._pop_row(), self.settings, opt_out))
            except (Rejected, KeyError, TypeError, ValueError) as exc:
                for values in columns.values():
                    del values[count:]
                failed.append((msg, exc))
        return failed

    def _times(self, msg: dict, received: dt.datetime, seen: dict) -> tuple:
        """(timestamp, timestamp_ms, original_timestamp, sent_at, received_at, flags) of a message.

        Worked out once per distinct (originalTimestamp, timestamp, sentAt) of
        a request: a batch's messages share their sentAt and often their
        times, and equal JSON values read as the same time.
        """
        get = msg.get
        key = (get("originalTimestamp"), get("timestamp"), get("sentAt"))
        try:
            return seen[key]
        except KeyError:
            pass
        except TypeError:  # a list or an object given as a time
            key = None
        when, original, flags = event_time(msg, received, self.max_future)
        sent = parse_time(get("sentAt")) or received
        times = (_second(when), when.microsecond // 1000, _second(original), _second(sent), _second(received), flags)
        if key is not None:
            seen[key] = times
        return times


def _second(when: dt.datetime) -> dt.datetime:
    """The time to the second (a DateTime column's precision); most times already are."""
    return when.replace(microsecond=0) if when.microsecond else when


def trust_flags(user_id: str, traits: dict, trust: dict | None) -> list[str]:
    """Flags saying what of a row is only a browser's claim (see ``collector.trust``).

    ``server``: sent with the server key. ``claimed``: a user id without its
    userHash. ``claimed_traits``: traits from a browser (the hash vouches for
    the id alone). A site that trusts unsigned identifies gets none.
    """
    by = (trust or {}).get("by")
    if by == "server":
        return ["server"]
    if by == "open":
        return []
    flags = []
    if user_id and user_id not in (trust or {}).get("verified", ()):
        flags.append("claimed")
    if traits:
        flags.append("claimed_traits")
    return flags


def claimed_visitor(site_id: str, user_id: str) -> str:
    """The anonymous id of a message that claims a user id and names no browser: its own,
    shared only by messages claiming the same id, so the claim never stands for the user."""
    return "claimed-" + hashlib.sha256(f"{site_id}|{user_id}".encode()).hexdigest()[:24]


def content_id(msg: dict) -> str:
    """A message id derived from the content, for senders that set none:
    a retry of the same message then still deduplicates."""
    stable = {k: v for k, v in msg.items() if k not in ("sentAt", "writeKey")}
    digest = hashlib.sha256(json.dumps(stable, sort_keys=True, default=str).encode()).hexdigest()
    return "h-" + digest[:32]


# -- opt-out (Do-Not-Track / Global Privacy Control) --------------------------

OPT_OUT_HEADERS = (("DNT", "1"), ("Sec-GPC", "1"))
_IDENTIFYING_CONTEXT = ("ip", "userAgent", "traits", "device")


def opted_out(headers, settings: dict | None = None) -> bool:
    """The browser says its user does not want to be tracked (DNT: 1 or
    Sec-GPC: 1), and ``BASIRAT_HONOUR_DNT`` is on. Decided at request time:
    the answer travels with the request's events to wherever rows are built."""
    if settings is not None and not settings.get("HONOUR_DNT", True):
        return False
    return any((headers.get(name) or "").strip() == value for name, value in OPT_OUT_HEADERS)


def protect(row: dict, settings: dict, opt_out: bool) -> dict:
    """The privacy step, last before the spool: the IP inside the stored
    context JSON is anonymized like the ``ip`` column, and an opted-out
    event loses what identifies its sender."""
    if opt_out:
        return honour_opt_out(row, settings.get("SECRET_KEY", ""))
    if settings["ANONYMIZE_IP"] and '"ip"' in row["context"]:
        context = json.loads(row["context"])
        if isinstance(context.get("ip"), str):
            row = {**row, "context": _json(anonymized_context(context))}
    return row


def anonymized_context(context: dict) -> dict:
    """The context with the IP its sender put in ``context.ip`` anonymized like the ``ip`` column."""
    if isinstance(context.get("ip"), str):
        return {**context, "ip": anonymize_ip(context["ip"])}
    return context


def honour_opt_out(row: dict, salt: str = "") -> dict:
    """Keep the event for the store's aggregate figures, but not the person.

    IP, user agent, traits and device ids are dropped; user, previous and
    group ids are cleared; the anonymous id becomes a pseudonym that changes
    every day, so a visit still hangs together (session recommendations,
    funnels) but no profile builds up across days. The row is flagged
    ``opt_out``.
    """
    day = row["received_at"].strftime("%Y-%m-%d")
    seed = f"{day}|{row['site_id']}|{row['anonymous_id'] or row['user_id']}|{salt}"
    try:
        context = json.loads(row["context"])
    except ValueError:
        context = {}
    for key in _IDENTIFYING_CONTEXT:
        context.pop(key, None)
    return {
        **row,
        "anonymous_id": "optout-" + hashlib.sha256(seed.encode()).hexdigest()[:24],
        "user_id": "",
        "previous_id": "",
        "group_id": "",
        "ip": "",
        "user_agent": "",
        "traits": "{}",
        "context": json.dumps(context, ensure_ascii=False, separators=(",", ":"), default=str),
        "flags": [*row["flags"], "opt_out"],
    }
