"""Time the segment and score jobs and every dashboard panel on ~10M events.

Real data, scaled: the Online Retail (France) invoices become a visit each
(page view, a recommendation click for one in four, product views and cart
adds per line, checkout and order once logged in, and feedback for one in
three; a customer's visits alternate between two devices), then copies under
new people fill the warehouse to the target. Runs in its own chDB folder
(deleted afterwards), stitches identities, and prints figures plus each
panel's ratio to the same visitors-per-day figure computed by fetching the
events into pandas, measured in the same run.

    .venv/bin/python -m bench.segments_dashboard [--events 10000000] [--repeat 3] [--timezone Asia/Tehran]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time

from core import settings
from mining import jobs, membership, stitching
from storefront.retail import read_retail
from tests.support.factories import tracked
from warehouse import connect
from warehouse.engine.migrate import migrate
from warehouse.queries import events, kpis, sites
from warehouse.queries.synthetic import replicate_events

TARGET_MS = 300


def base_rows(site_id: str) -> list[dict]:
    """One visit per invoice, as a tracker would have recorded it, ending a day ago."""
    frame = read_retail()
    frame = frame[~frame["InvoiceNo"].str.startswith("C")]
    shift = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=1) - frame["InvoiceDate"].max()
    rows = []
    for n, (invoice, lines) in enumerate(frame.groupby("InvoiceNo", sort=False)):
        first = lines.iloc[0]
        at = first.InvoiceDate.to_pydatetime() + shift
        anon, user = f"a{int(first.CustomerID)}-{n % 2}", f"u{int(first.CustomerID)}"

        def row(offset, name, _at=at, _anon=anon, **extra):
            return tracked(site_id, _at + dt.timedelta(seconds=offset), name, _anon, **extra)

        rows.append(row(0, "Page Viewed", type="page"))
        if n % 4 == 0:  # a quarter of the visits start from a recommendation of their first item
            clicked = {"recommendation_id": f"r{n}", "item_id": first.StockCode, "slot": "home"}
            rows.append(row(5, "Recommendation Clicked", properties=json.dumps(clicked, separators=(",", ":"))))
        for k, line in enumerate(lines.itertuples()):
            item = {"product_id": line.StockCode, "price": float(line.UnitPrice), "quantity": int(line.Quantity)}
            rows.append(row(10 + 20 * k, "Product Viewed", **item))
            rows.append(row(20 + 20 * k, "Product Added", **item))
        end = 30 + 20 * len(lines)
        rows.append(row(end, "Checkout Started", user_id=user))
        total = float((lines["UnitPrice"] * lines["Quantity"]).sum())
        rows.append(
            row(
                end + 30,
                "Order Completed",
                user_id=user,
                order_id=invoice,
                revenue=total,
                item_ids=list(lines["StockCode"]),
                item_prices=list(lines["UnitPrice"].astype(float)),
                item_quantities=list(lines["Quantity"].astype(int)),
            )
        )
        if n % 3 == 0:
            rows.append(row(end + 600, "Feedback Submitted", user_id=user, score=float(1 + n % 5)))
    return rows


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timezone", default="UTC", help="The site's time zone the panels count days in.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="basirat-bench-") as folder:
        wh = connect(f"chdb://{folder}")
        migrate(wh)
        base = sites.create_site(wh, "bench base")["site_id"]
        site = sites.create_site(wh, "bench")["site_id"]
        rows = base_rows(base)
        events.insert_events(wh, rows)
        copies = max(1, args.events // len(rows))
        started = time.perf_counter()
        for first in range(0, copies, 50):
            replicate_events(wh, base, site, first, min(copies, first + 50), spread_days=365)
            print(f"loading: {min(copies, first + 50) * len(rows):,} events", end="\r", flush=True)
        total = events.count_events(wh, site)
        print(
            f"loaded {total:,} events ({copies} copies of {len(rows):,} real-data events) "
            f"in {time.perf_counter() - started:.0f} s"
        )
        report(wh, site, args.repeat, args.timezone)
        wh.close()


def visitors_in_pandas(wh, site: str, start: dt.date, end: dt.date):
    """The baseline: the visitors panel done the Python way, events fetched and grouped in pandas."""
    frame = kpis.raw_activity(wh, site, start, end)
    return frame.groupby(frame["timestamp"].dt.date)["person_id"].nunique()


def report(wh, site: str, repeat: int, timezone: str = "UTC") -> None:
    quiet = lambda _: None  # noqa: E731
    end = dt.date.today()
    start = end - dt.timedelta(days=365)
    baseline_ms, _ = timed(lambda: visitors_in_pandas(wh, site, start, end), repeat)
    stitch_ms, stitched = timed(lambda: stitching.stitch_site(wh, site))
    print(
        f"identity: first stitching run {stitch_ms:.0f} ms "
        f"({stitched['identities']:,} ids in {stitched['people']:,} people)"
    )
    facts_ms, facts = timed(lambda: membership.site_facts(wh, site))
    print(f"baseline: visitors per day by fetching the year's events into pandas {baseline_ms:.0f} ms")
    print(f"segments: person facts {facts_ms:.0f} ms for {len(facts[0]):,} people")
    seg_ms, changes = timed(lambda: membership.refresh_site(wh, site, quiet))
    print(f"segments: first full refresh {seg_ms:.0f} ms ({len(changes):,} stays opened)")
    seg2_ms, _ = timed(lambda: membership.refresh_site(wh, site, quiet))
    print(f"segments: second refresh (nothing moved) {seg2_ms:.0f} ms")
    score_ms, _ = timed(lambda: jobs.run_scores(wh, settings.load(), quiet))
    print(f"scores: BG/NBD + Gamma-Gamma job {score_ms:.0f} ms")
    print(f"dashboard panels, one year of {timezone} days, median of {repeat} (target < {TARGET_MS} ms):")
    worst = 0.0
    for segment in (None, "repeat_buyers"):
        for name, panel in kpis.PANELS.items():
            ms, _ = timed(lambda p=panel, s=segment: p(wh, site, start, end, s, timezone=timezone), repeat)
            worst = max(worst, ms)
            label = f"{name} [{segment}]" if segment else name
            flag = "ok" if ms < TARGET_MS else "SLOW"
            print(f"  {label:<40} {ms:8.0f} ms  {ms / baseline_ms:6.3f}x baseline  {flag}")
    print(f"slowest panel {worst:.0f} ms")


if __name__ == "__main__":
    main()
