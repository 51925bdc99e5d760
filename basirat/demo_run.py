"""What ``basirat demo`` does once the server answers: site, data, jobs.

This runs in a thread of the serving worker, started once its app is loaded;
on failure it stops the whole server (gunicorn's master) with a message.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import time
import urllib.request
from typing import Callable

from core import connect
from mining.jobs import run_all
from storefront.retail import read_retail
from warehouse.queries import display, events, sites, users
from webapp import accounts

from .demo import browsing_events, retail_events, send

DEMO_SITE = "Demo store"
DEMO_ADMIN = "admin@demo.basirat"
# How the demo site shows dates and money in each language `basirat demo --locale` offers.
# Amounts stay in the store's own currency (its catalogue is priced in pounds).
LOCALE_DISPLAY = {
    "en": {"calendar": "gregorian", "timezone": "UTC", "currency": "", "money_unit": ""},
    "fa": {"calendar": "jalali", "timezone": "Asia/Tehran", "currency": "", "money_unit": ""},
}


def _wait_healthy(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not become healthy")


def _demo_site(warehouse) -> dict:
    for site in sites.list_sites(warehouse):
        if site["name"] == DEMO_SITE:
            # A demo folder from before identity verification: its site gets its secrets now.
            for which in ("identity_secret", "server_key"):
                if not site[which]:
                    site = sites.rotate_key(warehouse, site["site_id"], which)
            return site
    return sites.create_site(warehouse, DEMO_SITE, ["demo.basirat.shop", "127.0.0.1", "localhost"])


def _demo_admin(warehouse, locale: str = "") -> str:
    """The demo's admin, with a fresh password printed at every start (and the demo's language)."""
    password = accounts.new_password()
    user = users.find_by_email(warehouse, DEMO_ADMIN)
    if user is None:
        accounts.create(warehouse, DEMO_ADMIN, "admin", password)
        user = users.find_by_email(warehouse, DEMO_ADMIN)
    else:
        accounts.set_password(warehouse, user["user_id"], password)
        users.update_user(warehouse, user["user_id"], active=1)
    if locale:
        display.save_user_locale(warehouse, user["user_id"], locale)
    return password


def prepare(config: dict, echo: Callable[[str], None]) -> None:
    try:
        _prepare(config, echo)
    except Exception as exc:  # the demo must say why it stopped, then stop
        echo(f"demo: failed: {exc}")
        os.kill(os.getppid(), signal.SIGTERM)


def _prepare(config: dict, echo: Callable[[str], None]) -> None:
    url = f"http://{config['HOST']}:{config['PORT']}"
    _wait_healthy(url)
    warehouse = connect(config)
    site = _demo_site(warehouse)
    locale = config.get("LOCALE") or ""
    if locale in LOCALE_DISPLAY:
        display.save_site_display(warehouse, site["site_id"], LOCALE_DISPLAY[locale])
    password = _demo_admin(warehouse, locale)
    end = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=1)
    retail = read_retail()
    orders = retail_events(retail, end, site["identity_secret"])
    browsing = browsing_events(retail, end)
    messages = sorted(orders + browsing, key=lambda m: m["timestamp"])
    echo(
        f"demo: sending {len(messages)} events of the Online Retail (France) store through the collector "
        f"({len(orders)} from its invoices, {len(browsing)} of browsing modelled on them)"
    )
    send(url, site["write_key"], messages, echo)
    deadline = time.monotonic() + 120
    while events.count_events(warehouse, site["site_id"]) < len(messages) and time.monotonic() < deadline:
        time.sleep(0.5)
    echo(f"demo: {events.count_events(warehouse, site['site_id'])} events in the warehouse; running jobs")
    run_all(warehouse, config, progress=echo)
    data_flag = os.path.dirname(config["SPOOL_DIR"]) or "."
    echo("")
    echo(f"Basirat is ready: open {url}/")
    echo(f"  sign in as {DEMO_ADMIN}  password {password}")
    echo(f"  demo store: {url}/store/  (shop there, then see your visit with the query below)")
    echo(f"  site {site['site_id']}  write key {site['write_key']}  public key {site['public_key']}")
    command = _this_command()
    echo("  query it from another terminal:")
    echo(f'  {command} --data {data_flag} sql "SELECT event, count() FROM events GROUP BY event"')
    echo("  and your own clicks in the demo store, newest first:")
    echo(
        f'  {command} --data {data_flag} sql "SELECT timestamp, type, event, path FROM events '
        f"WHERE library_name = 'basirat.js' ORDER BY timestamp DESC LIMIT 20\""
    )
    echo("Press Ctrl-C to stop.")


def _this_command() -> str:
    """How the operator's shell, in this folder, runs the command that is running now: the same
    script (``.venv/bin/basirat`` under ``make demo``), or this Python with ``-m basirat``."""
    script = sys.argv[0]
    if os.path.basename(script) == "basirat" and os.path.exists(script):
        relative = os.path.relpath(script)
        return script if relative.startswith("..") else relative
    return f"{sys.executable} -m basirat"
