"""Offline channels: orders and customers from CSV files, as warehouse events.

An imported order becomes an ``Order Completed`` event (``Order Refunded`` for
a cancellation), marked ``library_name = 'basirat-import'`` with its channel in
``utm_source`` and ``context``. Events, not a table of their own, because then
every consumer (visits, popularity, segments, the profile) sees shop, phone and
marketplace orders exactly as it sees web orders, with no second code path.
The customer id goes in ``userId`` and is the identity ``customer:<id>`` (a
channel's own numbering) unless ``web_ids`` says it is the web store's user id
(then ``user:<id>``, optionally prefixed); an email goes into traits. Either
links the order to the web person. Message ids derive from the order, so a re-import adds
nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field

import pandas as pd

FIELDS = (
    "order_id",
    "customer_id",
    "email",
    "phone",
    "date",
    "product_id",
    "product_name",
    "quantity",
    "price",
    "revenue",
    "currency",
    "status",
)
# Fields an export fills on an order's first line only (Shopify) or repeats on every line (WooCommerce).
ORDER_FIELDS = ("customer_id", "email", "phone", "date", "revenue", "currency", "status")
# An order whose status says so becomes an ``Order Refunded``.
REFUNDED = r"(?i)^(refunded|voided|cancelled|canceled|wc-refunded|wc-cancelled)$"
PRESETS = {
    "online_retail": {
        "columns": {
            "order_id": "InvoiceNo",
            "customer_id": "CustomerID",
            "date": "InvoiceDate",
            "product_id": "StockCode",
            "product_name": "Description",
            "quantity": "Quantity",
            "price": "UnitPrice",
        },
        "date_format": "%m/%d/%Y %H:%M",
    },
    "cdnow": {
        "columns": {
            "customer_id": "customer_id",
            "date": "date",
            "quantity": "number_of_cds",
            "revenue": "dollar_value",
        },
        "names": ["customer_id", "date", "number_of_cds", "dollar_value"],
        "whitespace": True,
        "date_format": "%Y%m%d",
    },
    # Shopify admin, Orders > Export (CSV for Excel, Numbers or other spreadsheet programs): one row per
    # line item; order-level columns on the first row of each order only.
    "shopify": {
        "columns": {
            "order_id": "Name",
            "email": "Email",
            "phone": "Billing Phone",
            "date": "Created at",
            "product_id": "Lineitem sku",
            "product_name": "Lineitem name",
            "quantity": "Lineitem quantity",
            "price": "Lineitem price",
            "revenue": "Total",
            "currency": "Currency",
            "status": "Financial Status",
        },
        "date_format": "%Y-%m-%d %H:%M:%S %z",
    },
    # WooCommerce with the "Advanced Order Export For WooCommerce" plugin, CSV with a row per product
    # (its default field labels).
    "woocommerce": {
        "columns": {
            "order_id": "Order Number",
            "email": "Email (Billing)",
            "phone": "Phone (Billing)",
            "date": "Order Date",
            "product_id": "SKU",
            "product_name": "Item Name",
            "quantity": "Quantity",
            "price": "Item Cost",
            "revenue": "Order Total Amount",
            "status": "Order Status",
        },
        "date_format": "%Y-%m-%d %H:%M",
    },
}
EXAMPLES = 5


class ImportFailed(ValueError):
    """The file cannot be imported at all (missing column, unreadable)."""


@dataclass
class Parsed:
    rows: list[dict]
    lines: int
    bad: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class Mapping:
    columns: dict[str, str]
    date_format: str | None = None
    names: list[str] | None = None
    whitespace: bool = False
    sep: str = ","
    currency: str = "USD"
    channel: str = "offline"
    customer_prefix: str = ""
    web_ids: bool = False


def mapping_for(preset: str | None, overrides: dict[str, str], **options) -> Mapping:
    """The columns of each field: a preset's (none for ``custom``) overridden by ``overrides``."""
    base = dict(PRESETS.get(preset or "custom", {}))
    columns = {**base.get("columns", {}), **overrides}
    unknown = set(overrides) - set(FIELDS)
    if unknown:
        raise ImportFailed(f"unknown field(s) {', '.join(sorted(unknown))}; fields are {', '.join(FIELDS)}")
    chosen = {k: v for k, v in options.items() if v is not None}
    return Mapping(
        columns=columns,
        date_format=chosen.pop("date_format", base.get("date_format")),
        names=chosen.pop("names", base.get("names")),
        whitespace=chosen.pop("whitespace", base.get("whitespace", False)),
        **chosen,
    )


def read_table(path: str, mapping: Mapping) -> pd.DataFrame:
    """The file as text columns named by the mapping's fields."""
    try:
        frame = pd.read_csv(
            path,
            sep=r"\s+" if mapping.whitespace else mapping.sep,
            header=None if mapping.names else "infer",
            names=mapping.names,
            dtype=str,
            keep_default_na=False,
            encoding_errors="replace",
        )
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    if mapping.names and len(frame) and [str(v).strip() for v in frame.iloc[0]] == list(mapping.names):
        frame = frame.iloc[1:]  # the file has a header after all
    missing = [c for c in mapping.columns.values() if c not in frame.columns]
    if missing:
        raise ImportFailed(
            f"{path} has no column {', '.join(map(repr, missing))}; it has {', '.join(map(repr, frame.columns))}"
            " (map fields with --map field=COLUMN)"
        )
    out = pd.DataFrame({f: frame[c].str.strip() for f, c in mapping.columns.items()})
    for name in FIELDS:
        if name not in out:
            out[name] = ""
    out["line"] = frame.index + (1 if mapping.names else 2)
    out = out.reset_index(drop=True)
    if (out["order_id"] != "").all():
        # An order's own fields reach every one of its lines, however the export spreads them.
        for name in ORDER_FIELDS:
            filled = out[name].where(out[name] != "")
            out[name] = filled.groupby(out["order_id"], sort=False).transform("first").fillna("")
    return out


def _problems(frame: pd.DataFrame, mapping: Mapping) -> pd.Series:
    """Why each line is unusable ('' when it is fine)."""
    when = pd.to_datetime(frame["date"], format=mapping.date_format, errors="coerce", utc=True).dt.tz_localize(None)
    numbers = {c: pd.to_numeric(frame[c].replace("", "0"), errors="coerce") for c in ("quantity", "price", "revenue")}
    reason = pd.Series("", index=frame.index)
    checks = [
        ((frame["customer_id"] + frame["email"] + frame["phone"]) == "", "no customer id, email or phone"),
        (when.isna(), "date is not a date"),
        (numbers["quantity"].isna(), "quantity is not a number"),
        (numbers["price"].isna(), "price is not a number"),
        (numbers["revenue"].isna(), "revenue is not a number"),
    ]
    for bad, text in reversed(checks):
        reason = reason.mask(bad, text)
    frame["when"], frame["qty"], frame["unit"], frame["amount"] = (
        when,
        numbers["quantity"],
        numbers["price"],
        numbers["revenue"],
    )
    return reason


def parse_orders(path: str, mapping: Mapping, site_id: str, now: dt.datetime) -> Parsed:
    """Orders of the file as event rows, one per order, and the bad lines."""
    frame = read_table(path, mapping)
    reason = _problems(frame, mapping)
    bad = frame[reason != ""]
    good = frame[reason == ""].copy()
    examples = [f"line {line}: {why}" for line, why in zip(bad["line"][:EXAMPLES], reason[reason != ""][:EXAMPLES])]
    if not (good["order_id"] != "").all():
        good["order_id"] = (
            good["customer_id"] + "-" + good["when"].dt.strftime("%Y%m%d") + "-" + good["line"].astype(str)
        )
    return Parsed(rows=order_rows(good, mapping, site_id, now), lines=len(frame), bad=len(bad), examples=examples)


def order_rows(lines: pd.DataFrame, mapping: Mapping, site_id: str, now: dt.datetime) -> list[dict]:
    """One event per order: the lines' products as arrays; revenue from the file's column, else the lines' sum."""
    lines = lines.assign(
        units=lines["qty"].abs().astype("int64"),
        line_total=lines["unit"] * lines["qty"].abs(),
        item_price=lines["unit"].astype(float),
    )
    orders = lines.groupby("order_id", sort=False).agg(
        customer=("customer_id", "first"),
        email=("email", "first"),
        phone=("phone", "first"),
        currency=("currency", "first"),
        status=("status", "first"),
        when=("when", "first"),
        signed=("qty", "sum"),
        stated=("amount", "first"),
        summed=("line_total", "sum"),
    )
    orders["revenue"] = orders["stated"].where(orders["stated"] != 0, orders["summed"])
    with_items = lines[lines["product_id"] != ""]
    items = with_items.groupby("order_id", sort=False).agg(
        ids=("product_id", list), prices=("item_price", list), units=("units", list)
    )
    found = items.to_dict("index")
    none = {"ids": [], "prices": [], "units": []}
    rows = []
    for order in orders.itertuples():
        got = found.get(order.Index, none)
        rows.append(
            _event(
                site_id,
                now,
                mapping,
                key=f"order|{order.Index}",
                customer=order.customer,
                email=order.email,
                phone=order.phone,
                when=order.when.to_pydatetime(),
                # A cancellation: negative quantities (Online Retail's "C" invoices) or a refunded status.
                event="Order Refunded" if order.signed < 0 or refunded(order.status) else "Order Completed",
                order_id=order.Index,
                revenue=round(abs(float(order.revenue)), 2),
                item_ids=list(got["ids"]),
                item_prices=[float(p) for p in got["prices"]],
                item_quantities=[int(u) for u in got["units"]],
                **({"currency": order.currency.upper()} if order.currency else {}),
            )
        )
    return rows


def refunded(status: str) -> bool:
    return bool(re.match(REFUNDED, status.strip()))


def parse_customers(path: str, mapping: Mapping, site_id: str, now: dt.datetime) -> Parsed:
    """Customers (id and email) as identify events."""
    frame = read_table(path, mapping)
    bad_mask = (frame["customer_id"] == "") | (frame["email"] == "")
    examples = [
        f"line {line}: needs both a customer id and an email" for line in frame.loc[bad_mask, "line"][:EXAMPLES]
    ]
    rows = [
        _event(
            site_id,
            now,
            mapping,
            key=f"customer|{r.customer_id}|{r.email}",
            customer=r.customer_id,
            email=r.email,
            when=now,
            event="",
            type="identify",
        )
        for r in frame[~bad_mask].itertuples()
    ]
    return Parsed(rows=rows, lines=len(frame), bad=int(bad_mask.sum()), examples=examples)


def _event(site_id: str, now: dt.datetime, mapping: Mapping, key: str, customer: str, email: str, when, **fields):
    from warehouse.queries.events import EVENT_COLUMNS

    row = {k: (list(v) if isinstance(v, list) else v) for k, v in EVENT_COLUMNS.items()}
    digest = hashlib.sha256(f"{site_id}|{mapping.channel}|{key}".encode()).hexdigest()[:32]
    phone = fields.pop("phone", "")
    email_key = hashlib.sha256((email.strip().lower() or phone.strip()).encode()).hexdigest()[:32]
    traits = {k: v for k, v in (("email", email), ("phone", phone)) if v}
    row.update(
        site_id=site_id,
        message_id="import-" + digest,
        type="track",
        user_id=mapping.customer_prefix + customer if customer else "",
        anonymous_id="" if customer else "imported-" + email_key,
        timestamp=when,
        original_timestamp=when,
        sent_at=now,
        received_at=now,
        utm_source=mapping.channel,
        utm_medium="offline",
        library_name="basirat-import",
        currency=mapping.currency,
        traits=json.dumps(traits, separators=(",", ":")),
        context=json.dumps({"channel": mapping.channel}, separators=(",", ":")),
        flags=["imported", "web_ids"] if mapping.web_ids else ["imported"],
    )
    row.update(fields)
    return row


# Customer records of a source (a till, a call centre, a store platform), kept as records rather than
# events so the matcher sees every field as the source had it.
RECORD_FIELDS = (
    "source_id",
    "first_name",
    "last_name",
    "name",
    "email",
    "phone",
    "address",
    "city",
    "postcode",
    "country",
    "birth_date",
)
RECORD_PRESETS = {
    # Our own order imports' customer columns, and any file already named by field.
    "basirat": {f: f for f in ("source_id", "first_name", "last_name", "email", "phone")},
    # Shopify admin, Customers > Export (CSV for Excel, Numbers or other spreadsheet programs).
    "shopify": {
        "source_id": "Customer ID",
        "first_name": "First Name",
        "last_name": "Last Name",
        "email": "Email",
        "phone": "Phone",
        "address": "Default Address Address1+Default Address Address2",
        "city": "Default Address City",
        "postcode": "Default Address Zip",
        "country": "Default Address Country Code",
    },
    # WooCommerce customers as exported with their billing fields (the plugin's default keys).
    "woocommerce": {
        "source_id": "customer_id",
        "first_name": "billing_first_name",
        "last_name": "billing_last_name",
        "email": "billing_email",
        "phone": "billing_phone",
        "address": "billing_address_1+billing_address_2",
        "city": "billing_city",
        "postcode": "billing_postcode",
        "country": "billing_country",
    },
}


def record_mapping(preset: str, overrides: dict[str, str]) -> dict[str, str]:
    """Columns of each record field: the preset's, overridden; ``a+b`` joins columns with a space."""
    unknown = set(overrides) - set(RECORD_FIELDS)
    if unknown:
        raise ImportFailed(f"unknown field(s) {', '.join(sorted(unknown))}; fields are {', '.join(RECORD_FIELDS)}")
    return {**RECORD_PRESETS.get(preset, {}), **overrides}


def parse_customer_records(path: str, columns: dict[str, str], sep: str = ",", required: set | None = None) -> Parsed:
    """The file's customers as raw record fields (text), ``raw`` holding the mapped source columns as JSON.

    A column of a ``required`` field (those given with ``--map``; all when
    None) must be in the file; a preset's other columns are used when present.
    A line with neither a name, an email nor a phone is bad. A line without a
    source id gets one from its content, so a re-import finds it again.
    """
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding_errors="replace")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    if not columns:
        raise ImportFailed("no column is mapped: choose a --preset or map fields with --map field=COLUMN")
    wanted = {f: spec.split("+") for f, spec in columns.items()}
    present = {f: [c for c in cols if c in frame.columns] for f, cols in wanted.items()}
    needed = wanted if required is None else {f: c for f, c in wanted.items() if f in required}
    missing = sorted({c for cols in needed.values() for c in cols} - set(frame.columns))
    if not any(present.values()):
        missing = sorted({c for cols in wanted.values() for c in cols})
    if missing:
        raise ImportFailed(
            f"{path} has no column {', '.join(map(repr, missing))}; it has {', '.join(map(repr, frame.columns))}"
            " (map fields with --map field=COLUMN)"
        )
    out = pd.DataFrame(index=frame.index)
    for name in RECORD_FIELDS:
        cols = present.get(name, [])
        out[name] = _joined(frame, cols)
    split = (out["first_name"] + out["last_name"] == "") & (out["name"] != "")
    parts = out.loc[split, "name"].str.strip().str.rsplit(n=1, expand=True)
    if split.any():
        out.loc[split, "first_name"] = parts[0] if parts.shape[1] > 1 else ""
        out.loc[split, "last_name"] = parts[parts.shape[1] - 1]
    out["raw"] = [
        json.dumps({c: row[c] for cols in present.values() for c in cols}, ensure_ascii=False)
        for row in frame.to_dict("records")
    ]
    out["line"] = frame.index + 2
    empty = (out["first_name"] + out["last_name"] + out["email"] + out["phone"]) == ""
    examples = [f"line {line}: no name, email or phone" for line in out.loc[empty, "line"][:EXAMPLES]]
    good = out[~empty].copy()
    content = good["email"].str.lower() + "|" + good["phone"] + "|" + good["first_name"] + "|" + good["last_name"]
    derived = ["h" + hashlib.sha256(c.encode()).hexdigest()[:15] for c in content]
    good["source_id"] = good["source_id"].where(good["source_id"] != "", pd.Series(derived, index=good.index))
    duplicated = good["source_id"].duplicated(keep="last")
    good = good[~duplicated]
    return Parsed(
        rows=good.drop(columns=["name"]).to_dict("records"),
        lines=len(frame),
        bad=int(empty.sum()),
        examples=examples,
    )


def _joined(frame: pd.DataFrame, columns: list[str]) -> pd.Series | str:
    """Columns joined with one space, blanks skipped (``Address1+Address2``)."""
    if not columns:
        return ""
    joined = frame[columns[0]].str.strip()
    for column in columns[1:]:
        joined = (joined + " " + frame[column].str.strip()).str.strip()
    return joined
