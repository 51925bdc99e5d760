"""Who people are and the grid of customers: contact details for a page of people, and the
sortable, paged list the Customers page and its exports read.

Jobs file a person under its person id (``p_…``) when the identity map stitched it,
else under its raw user or anonymous id (``person_map.RAW_PERSON``); ``contacts``
takes keys of either kind. What a person told us (name, email, phone) lives in the
traits of their events; ``contacts`` reads it for a whole page in one statement.
"""

from __future__ import annotations

from warehouse.engine.connection import Warehouse

from .person_map import CHANNEL_ID_COLUMN
from .scores import NEWEST
from .segments import _OPEN
from .versions import newest_person_model, person_model

_TRAIT = "visitParamExtractString(traits, '{name}')"
# Traits only a browser vouches for (``collector.trust``) are kept and shown on the profile, but
# never name a person in lists, search or exports: anyone can claim any email from a browser.
_UNTRUSTED = "toUInt8(has(flags, 'claimed') OR has(flags, 'claimed_traits')) AS untrusted"
# A key's candidate identities: a person's from the by-person copy (kept if the map still
# gives them to it), a raw key's as each kind of id it may be.
_IDENTITIES = """
    SELECT mapped AS key, identity FROM (
        SELECT identity, argMax(person_id, version) AS mapped FROM identity_map
        WHERE site_id = {site_id:String} AND identity IN (
            SELECT identity FROM identity_by_person
            WHERE site_id = {site_id:String} AND person_id IN (SELECT arrayJoin({people:Array(String)})))
        GROUP BY identity
    ) AS current
    WHERE mapped IN (SELECT arrayJoin({people:Array(String)}))
    UNION ALL
    SELECT raw AS key, concat(kind, raw) AS identity
    FROM (SELECT arrayJoin({raw:Array(String)}) AS raw) AS raws
    ARRAY JOIN ['anon:', 'user:', 'customer:'] AS kind
"""
_BY_IDENTITY = f"""
    SELECT identity, 1 AS seen, max(timestamp) AS last_at,
           argMaxIf(email, timestamp, email != '') AS email_of,
           argMaxIf(phone, timestamp, phone != '') AS phone_of,
           argMaxIf(name, timestamp, name != '') AS name_of,
           argMaxIf(first_name, timestamp, first_name != '') AS first_of,
           argMaxIf(last_name, timestamp, last_name != '') AS last_of
    FROM (
        SELECT multiIf(user_id = '' OR channel_id = 2, concat('anon:', anonymous_id),
                       channel_id = 1, concat('customer:', user_id), concat('user:', user_id)) AS identity,
               timestamp,
               if(untrusted = 1, '', {_TRAIT.format(name="email")}) AS email,
               if(untrusted = 1, '', {_TRAIT.format(name="phone")}) AS phone,
               if(untrusted = 1, '', {_TRAIT.format(name="name")}) AS name,
               if(untrusted = 1, '', if({_TRAIT.format(name="firstName")} != '', {_TRAIT.format(name="firstName")},
                                         {_TRAIT.format(name="first_name")})) AS first_name,
               if(untrusted = 1, '', if({_TRAIT.format(name="lastName")} != '', {_TRAIT.format(name="lastName")},
                                         {_TRAIT.format(name="last_name")})) AS last_name
        FROM (
            SELECT anonymous_id, user_id, timestamp, traits, {CHANNEL_ID_COLUMN}, {_UNTRUSTED} FROM events
            WHERE site_id = {{site_id:String}} AND is_bot = 0 AND (
                anonymous_id IN (SELECT replaceRegexpOne(identity, '^anon:', '') FROM ({_IDENTITIES})
                                 WHERE identity LIKE 'anon:%')
                OR (user_id != '' AND user_id IN (
                    SELECT replaceRegexpOne(identity, '^(user|customer):', '') FROM ({_IDENTITIES})
                    WHERE identity LIKE 'user:%' OR identity LIKE 'customer:%')))
        ) AS rows_of_events
    ) AS facts
    GROUP BY identity
"""
_CONTACTS = f"""
    SELECT key, groupUniqArrayIf(identity, seen = 1 OR substring(key, 1, 2) = 'p_') AS identities,
           max(last_at) AS last_seen,
           argMaxIf(email_of, last_at, email_of != '') AS email, argMaxIf(phone_of, last_at, phone_of != '') AS phone,
           argMaxIf(name_of, last_at, name_of != '') AS name, argMaxIf(first_of, last_at, first_of != '') AS first_name,
           argMaxIf(last_of, last_at, last_of != '') AS last_name
    FROM ({_IDENTITIES}) AS ids
    ALL LEFT JOIN ({_BY_IDENTITY}) AS known USING identity
    GROUP BY key
"""


def contacts(warehouse: Warehouse, site_id: str, keys: list[str]) -> dict[str, dict]:
    """Name, email, phone, user and customer ids and last activity of each key, in one query.

    A key nobody knows comes back with empty fields, so every key asked for has an entry.
    """
    keys = sorted({k for k in keys if k})
    found = {}
    if keys:
        rows = warehouse.query(
            _CONTACTS,
            {
                "site_id": site_id,
                "people": [k for k in keys if k.startswith("p_")],
                "raw": [k for k in keys if not k.startswith("p_")],
            },
        )
        found = {row["key"]: row for row in rows}
    return {key: _contact(key, found.get(key, {})) for key in keys}


def _contact(key: str, row: dict) -> dict:
    identities = sorted(row.get("identities") or [])
    name = row.get("name") or " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p)
    last_seen = row.get("last_seen")
    return {
        "key": key,
        "name": name.strip(),
        "email": (row.get("email") or "").strip(),
        "phone": (row.get("phone") or "").strip(),
        "user_ids": [i[5:] for i in identities if i.startswith("user:")],
        "customer_ids": [i[9:] for i in identities if i.startswith("customer:")],
        "anonymous_ids": [i[5:] for i in identities if i.startswith("anon:")],
        "identities": identities,
        "last_seen": last_seen if last_seen and str(last_seen)[:4] > "1970" else None,
    }


# The Customers grid: one row per scored person of the newest scoring run, sortable by these
# columns only (the name picks the SQL; nothing the browser sends reaches the statement).
SORTS = {
    "value": "predicted_value",
    "churn": "churn_risk",
    "revenue": "historic_value",
    "orders": "orders",
    "rfm": "rfm",
    "satisfaction": "satisfaction",
    "likely": "likelihood",
}
# The newest per-person model, for the people it has ever recommended ``{product:String}``.
_WANTING = person_model(
    "{person_version:UInt64}",
    "SELECT person_id FROM rec_person_items WHERE site_id = {site_id:String} AND item_id = {product:String}",
)
_GRID_COLUMNS = (
    "person_id, orders, historic_value, predicted_value, churn_risk, satisfaction, "
    "recency_score, frequency_score, monetary_score, rfm"
)


def _grid_where(segment: str, product: str, min_churn: float | None) -> str:
    where = [NEWEST]
    if segment:
        where.append(f"person_id IN (SELECT person_id FROM ({_OPEN}) WHERE segment = {{segment:String}})")
    if product:
        where.append(f"person_id IN (SELECT person_id FROM ({_WANTING}) WHERE item_id = {{product:String}})")
    if min_churn is not None:
        where.append("churn_risk >= {min_churn:Float64}")
    return " AND ".join(where)


def _grid_params(warehouse: Warehouse, site_id: str, segment: str, product: str, min_churn: float | None) -> dict:
    """The values ``_grid_where`` binds; the newest per-person run is read only when a product filters."""
    return {
        "site_id": site_id,
        "segment": segment,
        "product": product,
        "min_churn": min_churn or 0.0,
        "person_version": newest_person_model(warehouse, site_id) if product else 0,
    }


def customer_count(
    warehouse: Warehouse, site_id: str, segment: str = "", product: str = "", min_churn: float | None = None
) -> int:
    return int(
        warehouse.scalar(
            f"SELECT count() FROM person_scores WHERE {_grid_where(segment, product, min_churn)}",
            _grid_params(warehouse, site_id, segment, product, min_churn),
        )
        or 0
    )


def customers(
    warehouse: Warehouse,
    site_id: str,
    sort: str = "value",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
    segment: str = "",
    product: str = "",
    min_churn: float | None = None,
) -> list[dict]:
    """A page of the grid, sorted in ClickHouse (unknown sort names fall back to predicted value);
    people without a figure in the sort column come last either way."""
    column = SORTS.get(sort, SORTS["value"])
    order = "DESC" if descending else "ASC"
    scored = f"""
        SELECT person_id, orders, historic_value, predicted_value, churn_risk, satisfaction,
               recency_score, frequency_score, monetary_score,
               recency_score * 100 + frequency_score * 10 + monetary_score AS rfm
        FROM person_scores WHERE {_grid_where(segment, product, min_churn)}
    """
    if product:
        # How strongly the per-person model recommends the product: "likely to buy X" sorts by it.
        scored = f"""
            SELECT {_GRID_COLUMNS}, likelihood FROM ({scored}) AS people_scored
            ANY LEFT JOIN (
                SELECT person_id, max(score) AS likelihood FROM ({_WANTING})
                WHERE item_id = {{product:String}}
                GROUP BY person_id
            ) AS recommended USING person_id
        """
    else:
        scored = f"SELECT {_GRID_COLUMNS}, toFloat64(0) AS likelihood FROM ({scored}) AS people_scored"
    return warehouse.query(
        f"""
        SELECT {_GRID_COLUMNS}, likelihood, segments
        FROM ({scored}) AS scored
        ANY LEFT JOIN (
            SELECT person_id, groupArray(segment) AS segments FROM ({_OPEN}) GROUP BY person_id
        ) AS memberships USING person_id
        ORDER BY isNull({column}), {column} {order}, person_id
        LIMIT {{offset:UInt32}}, {{limit:UInt32}}
        """,
        _grid_params(warehouse, site_id, segment, product, min_churn) | {"limit": limit, "offset": offset},
    )


_FINDABLE = f"""
    SELECT identity, argMax(text, timestamp) AS text, argMax(digits, timestamp) AS digits FROM (
        SELECT multiIf(user_id = '' OR channel_id = 2, concat('anon:', anonymous_id),
                       channel_id = 1, concat('customer:', user_id), concat('user:', user_id)) AS identity,
               timestamp,
               concat({_TRAIT.format(name="name")}, ' ', {_TRAIT.format(name="firstName")}, ' ',
                      {_TRAIT.format(name="first_name")}, ' ', {_TRAIT.format(name="lastName")}, ' ',
                      {_TRAIT.format(name="last_name")}, ' ', {_TRAIT.format(name="email")}) AS text,
               replaceRegexpAll({_TRAIT.format(name="phone")}, '[^0-9]', '') AS digits
        FROM (SELECT anonymous_id, user_id, timestamp, traits, {CHANNEL_ID_COLUMN}, {_UNTRUSTED} FROM events
              WHERE site_id = {{site_id:String}} AND is_bot = 0 AND traits != '{{}}')
        WHERE untrusted = 0
    ) AS told
    GROUP BY identity
    HAVING (length({{digits:String}}) >= 4 AND position(digits, {{digits:String}}) > 0)
        OR (length({{word:String}}) > 0 AND (positionCaseInsensitiveUTF8(text, {{word:String}}) > 0
                                             OR positionCaseInsensitiveUTF8(text, {{folded:String}}) > 0))
    ORDER BY identity
    LIMIT {{limit:UInt32}}
"""


def find_told(warehouse: Warehouse, site_id: str, word: str, folded: str, digits: str, limit: int = 200) -> list[dict]:
    """Identities whose latest traits hold ``word`` (as typed or folded) in a name or email, or
    ``digits`` (four or more) in a phone number; callers check the whole query on ``text``."""
    return warehouse.query(
        _FINDABLE,
        {"site_id": site_id, "word": word, "folded": folded, "digits": digits, "limit": limit},
    )
