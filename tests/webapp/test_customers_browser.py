"""The Customers grid and named segment members in a real Chromium against a real ``basirat serve``,
after every job ran on orders the store sent with its server key."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest

from basirat.demo import send
from tests.support.browser import screenshot
from tests.support.live import LiveServer, basirat

pytestmark = pytest.mark.process
CUSTOMERS = 30


def _history(now: dt.datetime) -> list[dict]:
    """Thirty customers who told the store who they are; some order often and lately, others
    stopped ordering most of a year ago, so value and churn risk differ."""
    stamp = lambda days: (now - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
    messages = []
    for i in range(CUSTOMERS):
        user, anon = f"c{i:02d}", f"dev-{i:02d}"
        last = 2 + i if i % 2 == 0 else 200 + i
        messages.append(
            {
                "type": "identify",
                "userId": user,
                "anonymousId": anon,
                "messageId": f"id-{i}",
                "timestamp": stamp(last + 1),
                "traits": {
                    "name": f"Ana Tester {i:02d}",
                    "email": f"ana{i:02d}@example.com",
                    "phone": f"+98912{i:05d}",
                },
            }
        )
        for k in range(1 + i % 5):
            messages.append(
                {
                    "type": "track",
                    "event": "Order Completed",
                    "userId": user,
                    "anonymousId": anon,
                    "messageId": f"order-{i}-{k}",
                    "timestamp": stamp(last + 25 * k),
                    "properties": {"order_id": f"o{i}-{k}", "revenue": 20 + 7 * i + k, "currency": "EUR"},
                }
            )
    return messages


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data = tmp_path_factory.mktemp("customers-live")
    site = json.loads(basirat(data, "sites", "create", "Corner Shop", "--domain", "corner.example", "--json").stdout)
    password = re.search(
        r"password: (\S+)", basirat(data, "users", "create", "owner@corner.example", "--role", "admin").stdout
    ).group(1)
    server = LiveServer(data).start()
    messages = _history(dt.datetime.now(dt.timezone.utc))
    send(server.url, site["server_key"], messages, lambda _m: None)
    server.wait_for(
        f"SELECT count() AS n FROM events WHERE site_id = '{site['site_id']}'",
        lambda rows: rows and int(rows[0]["n"]) >= len(messages),
    )
    basirat(data, "jobs", "run")
    yield server, site, password
    server.stop()


def _figures(page, attribute: str) -> list[float]:
    return [
        float(v)
        for v in page.locator(f"td[{attribute}]").evaluate_all(f"els => els.map(e => e.getAttribute('{attribute}'))")
        if v != ""
    ]


def test_customers_grid_sorts_by_churn_and_value_and_exports(browser, live):
    server, _site, password = live
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(server.url + "/login")
    page.fill("input[name=email]", "owner@corner.example")
    page.fill("input[name=password]", password)
    page.click("main form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/s/\w+/$"))

    page.click(".nav a[href$='/customers']")
    page.wait_for_selector("table.customers")
    assert page.locator("table.customers tbody tr").count() == CUSTOMERS
    assert page.locator("table.customers a.person", has_text="Ana Tester").count() == CUSTOMERS

    page.click("th a.sort:has-text('Churn risk')")
    page.wait_for_url(re.compile(r"sort=churn&dir=desc"))
    churn = _figures(page, "data-churn")
    assert len(churn) == CUSTOMERS and churn == sorted(churn, reverse=True) and churn[0] > churn[-1]
    page.click("th a.sort:has-text('Churn risk')")
    page.wait_for_url(re.compile(r"sort=churn&dir=asc"))
    assert _figures(page, "data-churn") == sorted(churn)
    screenshot(page, "customers-by-churn")

    page.click("th a.sort:has-text('Value, next 12 months')")
    page.wait_for_url(re.compile(r"sort=value&dir=desc"))
    value = _figures(page, "data-value")
    assert len(value) == CUSTOMERS and value == sorted(value, reverse=True) and value[0] > value[-1]
    first = page.locator("table.customers tbody tr").first.locator("a.person").inner_text()

    with page.expect_download() as download:
        page.click("a.button:has-text('Export CSV')")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert len(rows) == CUSTOMERS and rows[0]["name"] == first
    assert [float(r["predicted_value_12_months"]) for r in rows] == pytest.approx(value, rel=1e-6)
    assert all(r["email"].endswith("@example.com") and r["user_ids"].startswith("c") for r in rows)

    page.click("a[data-view=leaving]")
    page.wait_for_url(re.compile(r"churn=50"))
    leaving = _figures(page, "data-churn")
    assert leaving and all(c >= 0.5 for c in leaving) and leaving == sorted(leaving, reverse=True)

    page.set_viewport_size({"width": 390, "height": 800})
    fit = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert fit[0] <= fit[1], fit
    screenshot(page, "customers-390")
    assert problems == []
    context.close()


def test_segment_members_are_named_and_linked(browser, live):
    server, site, password = live
    sid = site["site_id"]
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=email]", "owner@corner.example")
    page.fill("input[name=password]", password)
    page.click("main form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/s/\w+/$"))
    page.goto(server.url + f"/s/{sid}/segments")
    page.locator("table tbody a").first.click()
    member = page.locator("table a.person").first
    name = member.inner_text()
    assert name.startswith("Ana Tester"), name
    member.click()
    page.wait_for_url(re.compile(rf"/s/{sid}/people/p_"))
    assert page.locator("h1").count() == 1
    screenshot(page, "segment-member-profile")

    page.goto(server.url + f"/s/{sid}/visitors")
    page.fill("input[name=q]", "+9891200007")
    page.click("form.card button[type=submit]")
    assert page.locator("table a.person").all_inner_texts() == ["Ana Tester 07"]
    context.close()
