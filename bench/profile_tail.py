"""What a fresh profile costs: reading the recent tail, against running the jobs every few seconds.

    .venv/bin/python -m bench.profile_tail [--events 1000000] [--repeat 5]

A fresh chDB folder gets ``--events`` events built from YOOCHOOSE and Instacart
(``bench/recdata.py``), and the identity and sessions jobs run once over them.
Then one shopper arrives: pages, a product, a sign-in and an order, received
now, after both jobs' marks. The bench times what the admin's pages run for
that shopper -- the profile (``people.profile``, which reads the tail) and
the first page of Visitors with its count -- and, as the baseline in the same
run, what the other way to be fresh would cost: one incremental run of the
identity and the sessions jobs (``stitch_site`` and ``sessionize_site`` with
the settings' defaults), which a scheduler would have to repeat every few
seconds whether or not anyone looks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

# How often a scheduler would have to run the jobs for "within about 10 seconds".
EVERY = 5


def shopper_events(site_id: str) -> list[dict]:
    from tests.support.factories import row

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    anon, user = "bench-shopper", "bench-customer"
    rows = [
        row(site_id, now, type="page", event="", anonymous_id=anon, path=f"/p/{n}", received_at=now) for n in range(8)
    ]
    rows.append(row(site_id, now, anonymous_id=anon, product_id="85099B", product_name="Jumbo Bag", received_at=now))
    rows.append(row(site_id, now, type="identify", event="", anonymous_id=anon, user_id=user, received_at=now))
    rows.append(
        row(
            site_id,
            now,
            event="Order Completed",
            anonymous_id=anon,
            user_id=user,
            order_id="bench-1",
            revenue=4.0,
            item_ids=["85099B"],
            item_prices=[2.0],
            item_quantities=[2],
            received_at=now,
        )
    )
    return rows


def timed(run, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from bench.recdata import million_events
    from core.settings import load as settings
    from mining.sessions import sessionize_site
    from mining.stitching import stitch_site
    from tests.support.factories import load
    from warehouse import connect
    from warehouse.engine.migrate import migrate
    from warehouse.queries import people, sites

    config = settings(environ={})
    timeout, late = int(config["SESSION_TIMEOUT_MINUTES"]), int(config["LATE_EVENTS_MINUTES"])
    with tempfile.TemporaryDirectory() as folder:
        wh = connect(f"chdb://{Path(folder) / 'warehouse'}")
        migrate(wh)
        site = sites.create_site(wh, "bench", ["bench.example"])["site_id"]
        started = time.monotonic()
        frame = million_events(site, args.events, now=time.time() - 7200)
        for lo in range(0, len(frame), 200_000):
            wh.insert("events", frame.iloc[lo : lo + 200_000])
        print(f"loaded {len(frame):,} events in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        stitch_site(wh, site, late_minutes=late)
        sessionize_site(wh, site, timeout, late)
        print(f"identity + sessions, full run: {time.monotonic() - started:.1f} s")

        load(wh, shopper_events(site))
        person = people.resolve(wh, site, "user:bench-customer")
        profile_ms, profile = timed(
            lambda: people.profile(wh, site, person, "user:bench-customer", timeout), args.repeat
        )
        assert profile["orders"] and profile["orders"][0]["items"][0]["name"] == "Jumbo Bag", "the tail was not read"
        listing_ms, listed = timed(
            lambda: (people.visitor_count(wh, site), people.recent_visitors(wh, site, 50)), args.repeat
        )
        assert listed[1][0]["visitor_id"] == "bench-shopper", "the shopper is not first in Visitors"

        started = time.perf_counter()
        stitch_site(wh, site, late_minutes=late)
        identity_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        sessionize_site(wh, site, timeout, late)
        sessions_ms = (time.perf_counter() - started) * 1000
        jobs_ms = identity_ms + sessions_ms
        wh.close()

    print(f"events: {args.events:,}; medians of {args.repeat} runs")
    print(f"profile with the tail read live:       {profile_ms:8.1f} ms")
    print(f"Visitors page 1 + count with the tail: {listing_ms:8.1f} ms")
    print(f"baseline, one incremental identity run: {identity_ms:7.1f} ms")
    print(f"baseline, one incremental sessions run: {sessions_ms:7.1f} ms")
    print(f"jobs / profile: {jobs_ms / profile_ms:.1f}x;  jobs / Visitors page: {jobs_ms / listing_ms:.1f}x")
    # The tail is paid when an admin opens a page; the jobs would run every few seconds regardless.
    print(f"the jobs every {EVERY} s would keep {jobs_ms / (EVERY * 1000):.0%} of a core busy on this site alone")


if __name__ == "__main__":
    main()
