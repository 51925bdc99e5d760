"""One person's view: who they are, their visits, orders, carts and feedback.

Every read goes through the sort keys: visits by ``(site_id, visitor_id)``,
the identity map by ``(site_id, identity)``, feedback by
``(site_id, anonymous_id)``, so a profile costs a few index lookups however
large the site's history is.
"""

from __future__ import annotations

import re

from warehouse.engine.connection import Warehouse

from . import display, recommendations, scores, segments, sessions, tail
from . import identity as ids
from .timeline import attach_events, grow, line_items, merge_visits, naive, names_in

HEX64 = re.compile(r"^[0-9a-f]{64}$")
KINDS = ("anon:", "user:", "customer:", "email:", "record:")
VISITS_SHOWN = 200
# Visits whose events the timeline lists one by one (older ones show their summary).
TIMELINE_VISITS = 20
TIMELINE_EVENTS = 1000


def identity_of(ref: str) -> str:
    """An identity from what an operator types: ``user:ID``, ``anon:ID``, ``customer:ID``,
    ``record:SOURCE/ID``, an email, or a bare user id."""
    ref = ref.strip()
    if ref.startswith("email:") and not HEX64.match(ref[6:]):
        return ids.email_identity(ref[6:])
    if ref.startswith(KINDS):
        return ref
    if "@" in ref:
        return ids.email_identity(ref)
    return "user:" + ref


def resolve(warehouse: Warehouse, site_id: str, ref: str) -> str | None:
    """The person id behind a reference (a person id or any identity), or None."""
    ref = ref.strip()
    if ref.startswith("p_"):
        found = warehouse.scalar(
            "SELECT count() FROM identity_map WHERE site_id = {site_id:String} AND person_id = {p:String}",
            {"site_id": site_id, "p": ref},
        )
        return ref if found else None
    identity = identity_of(ref)
    person = ids.person_of(warehouse, site_id, identity)
    if person is not None:
        return person
    return ids.person_id_of(identity) if seen(warehouse, site_id, identity) else None


def seen(warehouse: Warehouse, site_id: str, identity: str) -> bool:
    """Whether an unstitched identity has events (a visitor who never logged in)."""
    kind, _, value = identity.partition(":")
    if kind not in ("anon", "user", "customer") or not value:
        return False
    visitor = value if kind == "anon" else "user:" + value
    if warehouse.scalar(
        "SELECT count() FROM sessions WHERE site_id = {site_id:String} AND visitor_id = {v:String}",
        {"site_id": site_id, "v": visitor},
    ):
        return True
    if kind != "anon":  # a customer who signed in minutes ago, before the jobs ran
        return tail.user_seen(
            warehouse, site_id, value, tail.job_marks(warehouse, site_id).get("identity", {}).get("high_water")
        )
    # Not sessionized yet: an anonymous id is still one primary-key lookup in the events.
    return bool(
        warehouse.scalar(
            "SELECT count() FROM events WHERE site_id = {site_id:String} AND anonymous_id = {v:String}",
            {"site_id": site_id, "v": value},
        )
    )


def identities(warehouse: Warehouse, site_id: str, person_id: str, hint: str = "") -> list[dict]:
    """The person's identities with the link that joined each (a lone visitor has one)."""
    rows = ids.person_identities(warehouse, site_id, person_id)
    if not rows and hint and ids.person_id_of(hint) == person_id:
        rows = [
            {"identity": hint, "person_id": person_id, "via": "", "reason": "", "message_id": "", "linked_at": None}
        ]
    return rows


def visitor_ids(identity_rows: list[dict]) -> list[str]:
    """Visit keys of these identities: anonymous ids, and ``user:ID`` for events with only a user id
    (server-side calls, imported orders)."""
    out = []
    for row in identity_rows:
        kind, _, value = row["identity"].partition(":")
        if kind == "anon":
            out.append(value)
        elif kind in ("user", "customer"):
            out.append("user:" + value)
    return sorted(set(out))


_TOTALS = """
    SELECT count() AS n_visits, sum(orders) AS n_orders, sum(revenue) AS total_revenue,
           countIf(cart_adds > 0 AND orders = 0) AS abandoned_carts,
           sumIf(cart_value, cart_adds > 0 AND orders = 0) AS abandoned_value,
           sum(pageviews) AS n_pageviews, min(started_at) AS first_visit, max(ended_at) AS last_visit,
           argMin(source, started_at) AS first_source, argMax(source, started_at) AS last_source,
           argMin(device, started_at) AS first_device, argMax(device, started_at) AS last_device
    FROM sessions FINAL
    WHERE site_id = {site_id:String} AND visitor_id IN (SELECT arrayJoin({ids:Array(String)})) AND deleted = 0
"""
_NAMES = {"n_visits": "visits", "n_orders": "orders", "total_revenue": "revenue", "n_pageviews": "pageviews"}


def totals(warehouse: Warehouse, site_id: str, visitors: list[str]) -> dict:
    """Totals over every visit of these visitors, in ClickHouse (for people with very many visits)."""
    raw = warehouse.query(_TOTALS, {"site_id": site_id, "ids": visitors})[0]
    row = {_NAMES.get(k, k): v for k, v in raw.items()}
    if not row["visits"]:
        return totals_from({})
    return totals_from(row)


def totals_of(visits: list[dict]) -> dict:
    """The same totals as ``totals``, from the visits themselves."""
    if not visits:
        return totals_from({})
    first = min(visits, key=lambda v: v["started_at"])
    last = max(visits, key=lambda v: v["started_at"])
    abandoned = [v for v in visits if v["cart_adds"] and not v["orders"]]
    return totals_from(
        {
            "visits": len(visits),
            "orders": sum(v["orders"] for v in visits),
            "revenue": sum(v["revenue"] for v in visits),
            "abandoned_carts": len(abandoned),
            "abandoned_value": sum(v["cart_value"] for v in abandoned),
            "pageviews": sum(v["pageviews"] for v in visits),
            "first_visit": first["started_at"],
            "last_visit": max(v["ended_at"] for v in visits),
            "first_source": first["source"],
            "last_source": last["source"],
            "first_device": first["device"],
            "last_device": last["device"],
        }
    )


ADDITIVE = ("visits", "orders", "revenue", "abandoned_carts", "abandoned_value", "pageviews")


def with_tail(stored: dict, replaced: list[dict], fresh: list[dict]) -> dict:
    """Totals of the stored visits with the tail's visits in place of those they recompute."""
    if not fresh:
        return stored
    gone, new = totals_of(replaced), totals_of(fresh)
    out = {key: stored[key] - gone[key] + new[key] for key in ADDITIVE}
    keep = {k: stored[k] for k in ("first_visit", "first_source", "first_device")} if stored["visits"] else {}
    keep = keep or {k: new[k] for k in ("first_visit", "first_source", "first_device")}
    latest = new if not stored["last_visit"] or naive(new["last_visit"]) >= naive(stored["last_visit"]) else stored
    last = {k: latest[k] for k in ("last_visit", "last_source", "last_device")}
    return totals_from({**out, **keep, **last})


def totals_from(row: dict) -> dict:
    out = {
        "visits": 0,
        "orders": 0,
        "revenue": 0.0,
        "abandoned_carts": 0,
        "abandoned_value": 0.0,
        "pageviews": 0,
        "first_visit": None,
        "last_visit": None,
        "first_source": "",
        "last_source": "",
        "first_device": "",
        "last_device": "",
        **row,
    }
    out["revenue"] = round(out["revenue"], 2)
    out["abandoned_value"] = round(out["abandoned_value"], 2)
    out["average_order"] = round(out["revenue"] / out["orders"], 2) if out["orders"] else 0.0
    return out


def feedback(warehouse: Warehouse, site_id: str, visitors: list[str], limit: int = 50) -> list[dict]:
    anonymous = [v for v in visitors if not v.startswith("user:")]
    return warehouse.query(
        "SELECT timestamp, score, comment, product_id, path FROM events "
        "WHERE site_id = {site_id:String} AND anonymous_id IN (SELECT arrayJoin({ids:Array(String)})) "
        "AND event = 'Feedback Submitted' ORDER BY timestamp DESC LIMIT {limit:UInt32}",
        {"site_id": site_id, "ids": anonymous, "limit": limit},
    )


def job_keys(person_id: str, identity_rows: list[dict]) -> list[str]:
    """The ids the segment, score and recommendation jobs may file this person under.

    They file a stitched person under its person id, and an identity the map
    does not link under its raw id: the user id, else the anonymous id, without
    the ``user:``/``anon:`` prefix (``person_map.RAW_PERSON``). The
    recommendation job also files a person with one identity besides emails by
    that raw id. Reading only current results (open memberships, the latest
    scores and model) under all of them finds each job's answer.
    """
    raw = [row["identity"].partition(":")[2] for row in identity_rows if not row["identity"].startswith("email:")]
    return sorted({person_id, *raw})


def job_results(warehouse: Warehouse, site_id: str, person_id: str, identity_rows: list[dict]) -> dict:
    """What the segment, score and recommendation jobs hold for one person now.

    Three more reads: the profile page loads them apart, so that its own
    answer keeps to the few index lookups of ``profile``.
    """
    keys = job_keys(person_id, identity_rows)
    score = scores.current_score(warehouse, site_id, keys) or {}
    models = {m["model"]: m for m in recommendations.model_status(warehouse, site_id)}
    return {
        "segments": segments.current_segments(warehouse, site_id, keys),
        "scores": score,
        "recommendations": recommendations.person_items(warehouse, site_id, keys),
        "as_of": {
            "segments": tail.job_marks(warehouse, site_id).get("segments", {}).get("ran_at"),
            "scores": tail.from_version(score["model_version"]) if score.get("model_version") else None,
            "recommendations": naive(models["person"]["computed_at"]) if "person" in models else None,
        },
    }


def profile(warehouse: Warehouse, site_id: str, person_id: str, hint: str = "", timeout_minutes: int = 30) -> dict:
    """Everything the visitor profile shows but the jobs' results (``job_results``), in one dict.

    The identity map and the stored visits are brought up to the moment with
    the events the jobs have not read yet (``tail``), so a visit, a sign-in or
    an order shows within seconds.
    """
    marks = tail.job_marks(warehouse, site_id)
    who = identities(warehouse, site_id, person_id, hint)
    who = who + live_identities(warehouse, site_id, person_id, who, _mark(marks, "identity"))
    visitors = visitor_ids(who)
    stored = sessions.visits(warehouse, site_id, visitors, limit=VISITS_SHOWN)
    since = _mark(marks, "sessions")
    fresh, bounds = sessions.tail_visits(warehouse, site_id, visitors, since, timeout_minutes, tail.floor_of(since))
    merged = merge_visits(stored, fresh, bounds)
    visits = merged[:VISITS_SHOWN]
    # With every visit in hand the totals need no second query.
    if len(stored) < VISITS_SHOWN:
        summed = totals_of(merged)
    else:
        replaced = [
            v for v in stored if v["visitor_id"] in bounds and naive(v["started_at"]) >= bounds[v["visitor_id"]]
        ]
        summed = with_tail(totals(warehouse, site_id, visitors), replaced, fresh)
    recent = visits[:TIMELINE_VISITS]
    events = (
        tail.person_events(warehouse, site_id, visitors, recent[-1]["started_at"], TIMELINE_EVENTS) if recent else []
    )
    ordered = tail.person_orders(warehouse, site_id, visitors)
    # The catalogue's names first; a product it lacks yet (added minutes ago) by the name the person's
    # own events gave it, else by its id.
    wanted = {i for o in ordered for i in o["item_ids"]}
    names = {**names_in(events), **display.names_of_products(warehouse, site_id, sorted(wanted))}
    orders = line_items(ordered, names)
    return {
        "person_id": person_id,
        "identities": who,
        "devices": sorted({v["device"] for v in visits}),
        "totals": summed,
        "visits": attach_events(visits, events),
        "orders": orders,
        "currency": next((o["currency"] for o in orders if o["currency"]), ""),
        "feedback": feedback(warehouse, site_id, visitors),
        "audit": ids.audit_trail(warehouse, site_id, [r["identity"] for r in who]),
        "claims": ids.claims(warehouse, site_id, [r["identity"] for r in who]),
        "marks": marks,
    }


def _mark(marks: dict, job: str):
    return marks.get(job, {}).get("high_water")


def live_identities(warehouse: Warehouse, site_id: str, person_id: str, rows: list[dict], since) -> list[dict]:
    """Identities the events since the identity job's mark join to this person (two hops: a browser
    that signed in, then the customer's other browsers); a known customer's stored identities
    come along with it."""
    added: list[dict] = []
    for _ in range(2):
        have = rows + added
        links = tail.tail_links(warehouse, site_id, [r["identity"] for r in have], since)
        new = grow(have, links, person_id, unmerged(warehouse, site_id, links)) if links else []
        if not new:
            break
        owners = persons_of(warehouse, site_id, [r["identity"] for r in new])
        for row in new:
            added.append(row)
            other = owners.get(row["identity"])
            if other and other != person_id:
                held = {r["identity"] for r in rows + added}
                added += [
                    {**r, "live": True}
                    for r in ids.person_identities(warehouse, site_id, other)
                    if r["identity"] not in held
                ]
    return added


def unmerged(warehouse: Warehouse, site_id: str, links: list[dict]) -> set[frozenset]:
    """The pairs among these links' identities that an operator last separated (a manual unmerge)."""
    touched = sorted({i for link in links for i in (link["a"], link["b"])})
    last: dict[frozenset, str] = {}
    for row in ids.audit_trail(warehouse, site_id, touched):  # oldest first
        last[frozenset((row["a"], row["b"]))] = row["action"]
    return {pair for pair, action in last.items() if action == "unmerge"}


def search(warehouse: Warehouse, site_id: str, query: str, limit: int = 50) -> list[dict]:
    """Visitors matching an id, an email or an order id; the latest visitors for an empty query."""
    query = query.strip()
    if not query:
        return recent_visitors(warehouse, site_id, limit)
    candidates = {identity_of(query), "anon:" + query, "user:" + query}
    found = []
    if query.startswith("p_") and resolve(warehouse, site_id, query):
        # A person id as exports and segment lists show it.
        found.append({"person_id": query, "identity": query, "matched": "id"})
    for identity in sorted(candidates):
        person = resolve(warehouse, site_id, identity)
        if person:
            found.append({"person_id": person, "identity": identity, "matched": "id"})
    for row in warehouse.query(
        "SELECT DISTINCT visitor_id FROM sessions WHERE site_id = {site_id:String} AND has(order_ids, {q:String}) "
        "LIMIT {limit:UInt32}",
        {"site_id": site_id, "q": query, "limit": limit},
    ):
        identity = _identity_of_visitor(row["visitor_id"])
        found.append({"person_id": resolve(warehouse, site_id, identity), "identity": identity, "matched": "order"})
    for visitor in tail.order_visitors(
        warehouse, site_id, query, _mark(tail.job_marks(warehouse, site_id), "sessions")
    ):
        identity = _identity_of_visitor(visitor)
        found.append({"person_id": resolve(warehouse, site_id, identity), "identity": identity, "matched": "order"})
    if len(query) >= MIN_PREFIX:
        for identity in _by_prefix(warehouse, site_id, query, limit):
            person = resolve(warehouse, site_id, identity)
            found.append({"person_id": person, "identity": identity, "matched": "prefix"})
    unique = {f["person_id"]: f for f in reversed(found) if f["person_id"]}
    return sorted(unique.values(), key=lambda f: MATCH_ORDER[f["matched"]])[:limit]


MIN_PREFIX = 3
MATCH_ORDER = {"id": 0, "order": 1, "prefix": 2}


def _by_prefix(warehouse: Warehouse, site_id: str, query: str, limit: int) -> list[str]:
    """Visitors whose anonymous or user id starts with the query (the sort key
    of ``sessions`` makes this a range read, not a scan)."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = warehouse.query(
        "SELECT DISTINCT visitor_id FROM sessions WHERE site_id = {site_id:String} "
        "AND (visitor_id LIKE {anon:String} OR visitor_id LIKE {user:String}) ORDER BY visitor_id LIMIT {limit:UInt32}",
        {"site_id": site_id, "anon": escaped + "%", "user": "user:" + escaped + "%", "limit": limit},
    )
    return [_identity_of_visitor(r["visitor_id"]) for r in rows]


VISITOR_SORTS = {"last_seen": "last_seen", "visits": "visits", "orders": "order_count", "revenue": "revenue_total"}


def recent_visitors(
    warehouse: Warehouse,
    site_id: str,
    limit: int = 50,
    offset: int = 0,
    sort: str = "last_seen",
    descending: bool = True,
    buyers_only: bool = False,
    days: int = 0,
) -> list[dict]:
    """A page of visitors, sorted in ClickHouse by one of ``VISITOR_SORTS`` (others: last seen);
    ``buyers_only`` keeps those who ordered, ``days`` those seen in the last so many days."""
    column = VISITOR_SORTS.get(sort, "last_seen")
    where = _visitor_filter(buyers_only, days)
    rows = warehouse.query(
        f"SELECT * FROM ({tail.VISITORS}) {where} ORDER BY {column} {'DESC' if descending else 'ASC'}, visitor_id "
        "LIMIT {offset:UInt32}, {limit:UInt32}",
        {**_tail_params(warehouse, site_id), "limit": limit, "offset": offset, "days": days},
    )
    for row in rows:
        row["identity"] = _identity_of_visitor(row["visitor_id"])
    mapped = persons_of(warehouse, site_id, [r["identity"] for r in rows])
    for row in rows:
        row["person_id"] = mapped.get(row["identity"]) or ids.person_id_of(row["identity"])
    return rows


def persons_of(warehouse: Warehouse, site_id: str, identities: list[str]) -> dict[str, str]:
    """The person each of these identities belongs to now (those the map knows), in one query."""
    if not identities:
        return {}
    rows = warehouse.query(
        "SELECT identity, argMax(person_id, version) AS person FROM identity_map "
        "WHERE site_id = {site_id:String} AND identity IN (SELECT arrayJoin({ids:Array(String)})) GROUP BY identity",
        {"site_id": site_id, "ids": identities},
    )
    return {r["identity"]: r["person"] for r in rows}


def visitor_count(warehouse: Warehouse, site_id: str, buyers_only: bool = False, days: int = 0) -> int:
    return int(
        warehouse.scalar(
            f"SELECT count() FROM (SELECT * FROM ({tail.VISITORS}) {_visitor_filter(buyers_only, days)})",
            {**_tail_params(warehouse, site_id), "days": days},
        )
        or 0
    )


def _tail_params(warehouse: Warehouse, site_id: str) -> dict:
    """Visitors are the stored visits plus the events received since the sessions job's mark."""
    return tail.visitors_params(site_id, _mark(tail.job_marks(warehouse, site_id), "sessions"))


def _visitor_filter(buyers_only: bool, days: int) -> str:
    tests = (["order_count > 0"] if buyers_only else []) + (
        ["last_seen >= now() - {days:UInt32} * 86400"] if days else []
    )
    return ("WHERE " + " AND ".join(tests)) if tests else ""


def _identity_of_visitor(visitor_id: str) -> str:
    return visitor_id if visitor_id.startswith("user:") else "anon:" + visitor_id
