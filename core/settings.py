"""Every setting, declared once as data.

Each has a name, a default and a line of help. Values come in three layers:
these defaults, then ``BASIRAT_<NAME>`` environment variables, then explicit
overrides (CLI options, a test's dict). ``load`` validates the result so a bad
value stops start-up with a clear message instead of failing later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from .calendars import check_calendar, check_timezone
from .proxies import parse_trusted


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    check: Callable[[object], object] | None = None  # raises ValueError on a bad value


def _contexts(value) -> None:
    unknown = {c.strip() for c in str(value).split(",") if c.strip()} - {"home", "product", "cart"}
    if unknown:
        raise ValueError(f"unknown context(s) {', '.join(sorted(unknown))}; use home, product, cart")


def _fraction(value) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"{value} is not a fraction between 0 (excluded) and 1")


def _at_least_one(value) -> None:
    if value < 1:
        raise ValueError(f"{value} is not 1 or more")


def _minutes(value) -> None:
    if value < 1:
        raise ValueError(f"{value} is not a number of minutes (1 or more)")


def _not_negative(value) -> None:
    if value < 0:
        raise ValueError(f"{value} is negative; use 0 to turn it off")


def _locale(value) -> None:
    if value and not value.replace("_", "").isalpha():
        raise ValueError(f"{value!r} is not a language code (like en or fa)")


SETTINGS = [
    Setting(
        "WAREHOUSE_URL",
        "chdb://./data/warehouse",
        "Where the data lives: chdb:///folder (embedded, default) or clickhouse://user:pass@host:9000/db.",
    ),
    Setting("CLICKHOUSE_CLUSTER", "", "Cluster name from the server's remote_servers; empty for a single server."),
    Setting(
        "CLICKHOUSE_SPILL_MB",
        400,
        "Memory one GROUP BY or sort may hold before ClickHouse goes on in temporary files (0: never): it "
        "bounds the mining jobs' memory, embedded ClickHouse's included, at some cost in time.",
        _not_negative,
    ),
    Setting(
        "CLICKHOUSE_QUERY_MEMORY_MB",
        0,
        "Most memory one query may take before ClickHouse stops it with an error (0: no limit of its own).",
        _not_negative,
    ),
    Setting("CLICKHOUSE_THREADS", 0, "Threads one query may use (0: ClickHouse's own choice).", _not_negative),
    Setting("SPOOL_DIR", "./data/spool", "Folder of the durable spool that holds accepted events until loaded."),
    Setting("SPOOL_MAX_BYTES", 1 << 30, "Disk the spool may use; past it the collector answers 503 with Retry-After."),
    Setting(
        "SPOOL_SITE_SHARE",
        0.5,
        "Most of the spool one site may fill while other sites have events waiting (1: no per-site limit).",
        _fraction,
    ),
    Setting("LOADER_INTERVAL", 1.0, "Seconds between loader passes (about one insert per second per table)."),
    Setting("LOADER_BATCH_ROWS", 50000, "Most rows the loader inserts in one statement.", _at_least_one),
    Setting(
        "LOADER_WORKERS",
        0,
        "Processes that load a backlog into a ClickHouse server, each reading, building and inserting a share of "
        "each pass (0: one per core; 1: the loader alone). An embedded warehouse is always loaded by the loader "
        "itself.",
    ),
    Setting("LOADER_MAX_BACKOFF", 30.0, "Longest wait, in seconds, between loader retries while ClickHouse fails."),
    Setting("MAX_MESSAGE_BYTES", 32 * 1024, "Largest accepted message, as Segment (32 KB)."),
    Setting("MAX_BATCH_BYTES", 500 * 1024, "Largest accepted request body after decompression, as Segment (500 KB)."),
    Setting(
        "MAX_FUTURE_SECONDS", 300, "Event times further ahead than this are clamped to the receive time and flagged."
    ),
    Setting("ANONYMIZE_IP", True, "Zero the last octet of IPv4 (and keep a /48 of IPv6) before storage."),
    Setting(
        "TRUST_PROXY",
        False,
        "Behind one reverse proxy: take the client IP from the last X-Forwarded-For entry (TRUSTED_PROXIES=1).",
    ),
    Setting(
        "TRUSTED_PROXIES",
        "",
        "Proxies in front, as a count or networks (10.0.0.0/8, ::1): the client is the right-most other hop.",
        parse_trusted,
    ),
    Setting(
        "IP_RATE_LIMIT",
        200.0,
        "Requests a second one client IP may send to a collector, all its workers together (0: no limit).",
    ),
    Setting(
        "SITE_RATE_LIMIT",
        2000.0,
        "Requests a second one site may send to a collector, all its workers together (0: no limit).",
    ),
    Setting(
        "METRICS_TOKEN",
        "",
        "Bearer token that /metrics asks of every caller; empty: /metrics answers loopback clients only.",
    ),
    Setting("COLLECTOR_WORKERS", 0, "gunicorn worker processes of `basirat collector` (0: two per core)."),
    Setting("COLLECTOR_THREADS", 8, "Threads per collector worker; concurrent requests share each spool fsync."),
    Setting(
        "COLLECTOR_PIN_WORKERS",
        True,
        "Keep each collector worker on one core (spread evenly), so its threads hand over on one core.",
    ),
    Setting("KEY_REFRESH_SECONDS", 10.0, "How often collectors reload site keys from the warehouse."),
    Setting("SECRET_KEY", "", "Signs admin sessions; generated into the data folder when empty."),
    Setting("SECURE_COOKIES", False, "Mark admin session cookies Secure; set when the admin is served over https."),
    Setting(
        "COLLECTOR_URL",
        "",
        "Public URL of the collector for tracking snippets; empty: http://HOST:PORT (a warning at start).",
    ),
    Setting(
        "SESSION_TIMEOUT_MINUTES",
        30,
        "Inactivity that ends a visit: the sessions job, the KPI page and recommendations cut visits alike.",
        _minutes,
    ),
    Setting(
        "RETENTION_DAYS",
        0,
        "Keep raw events, and every table derived from them that holds visitor or user ids, this many days "
        "(0 keeps them forever): a TTL where the server has one, else a daily delete.",
    ),
    Setting("MODEL_VERSIONS_KEPT", 3, "Versions of each mined model kept per site; older ones are deleted daily."),
    Setting(
        "HONOUR_DNT", True, "Strip IP, user agent and lasting identifiers of events sent with DNT: 1 or Sec-GPC: 1."
    ),
    Setting("LOG_FORMAT", "text", "Log lines as `text` or `json` (one object a line, for log collectors)."),
    Setting(
        "LATE_EVENTS_MINUTES",
        60,
        "Incremental jobs go back this long before their last run's mark when events arrived behind it "
        "(received before the mark, loaded after the run).",
    ),
    Setting(
        "SEGMENT_HISTORY_DAYS",
        30,
        "On a site's first segments run, compute membership as of each of this many past days (0: from now on).",
    ),
    Setting(
        "CHURN_HORIZON_DAYS",
        90,
        "Churn risk is the chance a customer orders nothing in this many days (MBG/NBD, scores job).",
    ),
    Setting("IDENTITY_MAX_IDS", 200, "Most identities (devices, user ids, emails) one person may gather."),
    Setting(
        "LOCALE",
        "",
        "Language of the admin and the demo store for people who chose none (en, fa); empty: the browser's.",
        _locale,
    ),
    Setting("CALENDAR", "gregorian", "Calendar of sites that chose none: gregorian or jalali.", check_calendar),
    Setting(
        "TIMEZONE", "UTC", "Time zone of sites that chose none (an IANA name such as Asia/Tehran).", check_timezone
    ),
    Setting("MATCH_LINK_WEIGHT", 4.0, "Match weight from which two customer records are linked (docs/matching.md)."),
    Setting("MATCH_REVIEW_WEIGHT", -2.0, "Match weight from which a pair not linked goes to the review queue."),
    Setting("MATCH_MAX_SHARED", 4, "An email, phone or address held by more records is no evidence of one person."),
    Setting("MATCH_TRAIN_MIN", 1000, "Records a site needs before m and u are estimated (EM) instead of priors."),
    Setting("MATCH_DEFAULT_REGION", "", "Country (ISO code) of phones imported without a country code, e.g. IR."),
    Setting("HOST", "127.0.0.1", "Address `basirat serve` listens on."),
    Setting("PORT", 8000, "Port `basirat serve` listens on."),
    Setting("STOREFRONT", False, "Mount the demo store under /store/ (`basirat demo` turns it on)."),
    Setting("STOREFRONT_SITE", "Demo store", "Name of the site whose keys the demo storefront (/store/) embeds."),
    Setting(
        "STOREFRONT_COLLECTOR_URL", "", "Collector origin the demo storefront's pages send to; empty: the same server."
    ),
    Setting(
        "SCHEDULER_IN_SERVE",
        True,
        "Run the job scheduler inside `basirat serve` (embedded mode); turn off when `basirat scheduler` runs instead.",
    ),
    Setting("RECOMMENDER_POLL_SECONDS", 5.0, "How often the recommendation endpoint looks for newer models and keys."),
    Setting("RECOMMENDER_TAIL_SECONDS", 1.0, "How often the endpoint reads newly loaded events into live sessions."),
    Setting(
        "REC_IP_RATE_LIMIT",
        20.0,
        "Recommendation requests a second one client IP may make, all the endpoint's workers together (0: no limit).",
    ),
    Setting(
        "REC_SITE_RATE_LIMIT",
        2000.0,
        "Recommendation requests a second one site's public key may make, all workers together (0: no limit).",
    ),
    Setting(
        "REC_SHOW_SEEN",
        "home",
        "Contexts (comma-separated: home, product, cart) whose recommendations may show again products viewed "
        "earlier in the visit; bought products and the product on screen never are.",
        _contexts,
    ),
    Setting(
        "REC_MIN_VISITORS",
        5,
        "Distinct non-bot visitors a product needs before it is served to everyone as popular or trending.",
    ),
    Setting(
        "WEBHOOK_ALLOW_PRIVATE",
        False,
        "Let segment webhooks call private, loopback and link-local addresses (off: only public hosts).",
    ),
    Setting("WEBHOOK_TIMEOUT", 5.0, "Seconds a segment webhook may take to answer one attempt."),
    Setting("WEBHOOK_MAX_ATTEMPTS", 3, "Attempts per segment webhook delivery (5xx, 429 and network errors retry)."),
]

BY_NAME = {s.name: s for s in SETTINGS}


class SettingsError(ValueError):
    pass


def _coerce(setting: Setting, value):
    kind = type(setting.default)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    text = str(value).strip()
    try:
        if kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        return kind(text)
    except ValueError:
        raise SettingsError(f"BASIRAT_{setting.name}={value!r} is not a valid {kind.__name__}") from None


def load(overrides: dict | None = None, environ: dict | None = None) -> dict:
    """Defaults, then the environment, then ``overrides``; validated."""
    environ = os.environ if environ is None else environ
    values = {}
    for setting in SETTINGS:
        value = setting.default
        if f"BASIRAT_{setting.name}" in environ:
            value = environ[f"BASIRAT_{setting.name}"]
        if overrides and overrides.get(setting.name) is not None:
            value = overrides[setting.name]
        values[setting.name] = _coerce(setting, value)
        if setting.check is not None:
            try:
                setting.check(values[setting.name])
            except ValueError as exc:
                raise SettingsError(f"BASIRAT_{setting.name}: {exc}") from None
    unknown = set(overrides or {}) - set(BY_NAME)
    if unknown:
        raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
    return values


def clickhouse_settings(config) -> dict:
    """The ClickHouse settings every query of this process runs with (``CLICKHOUSE_*``).

    ClickHouse 18.16 knows each of them too. A GROUP BY or sort past the spill size goes on in
    temporary files rather than growing, where a query memory limit would stop it instead.
    """
    out = {}
    if config.get("CLICKHOUSE_SPILL_MB"):
        spill = int(config["CLICKHOUSE_SPILL_MB"]) << 20
        out |= {"max_bytes_before_external_group_by": spill, "max_bytes_before_external_sort": spill}
    if config.get("CLICKHOUSE_QUERY_MEMORY_MB"):
        out["max_memory_usage"] = int(config["CLICKHOUSE_QUERY_MEMORY_MB"]) << 20
    if config.get("CLICKHOUSE_THREADS"):
        out["max_threads"] = int(config["CLICKHOUSE_THREADS"])
    return out


def collector_url(config) -> str:
    """The collector's public URL: ``COLLECTOR_URL``, else what ``HOST`` and ``PORT`` make.

    Never the Host header of a request: a client chooses that, and pages and
    documents built from it would send a store's events wherever it says."""
    if config.get("COLLECTOR_URL"):
        return str(config["COLLECTOR_URL"]).rstrip("/")
    host = str(config.get("HOST") or "127.0.0.1")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.get('PORT') or 8000}"
