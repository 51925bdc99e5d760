"""An A/B test end to end: browsers on the demo store split between arms, the admin reads the result.

Real ``basirat serve``, real Chromium, real tracker: each browser context is a
new visitor whose home page asks the endpoint for recommendations; the answer
names the visitor's arm, the tracker reports what was shown and clicked, and
the Recommendations page shows impressions and clicks per arm.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from basirat.demo import send
from tests.support.browser import screenshot
from tests.support.live import LiveServer, basirat

pytestmark = pytest.mark.process

PRODUCTS = ["23084", "22492", "21731", "84879"]
ENV = {"BASIRAT_STOREFRONT": "true", "BASIRAT_REC_MIN_VISITORS": "1"}


@pytest.fixture(scope="module")
def ab_shop(tmp_path_factory):
    data = tmp_path_factory.mktemp("ab-shop")
    site = json.loads(basirat(data, "sites", "create", "Demo store", "--domain", "127.0.0.1", "--json").stdout)
    password = re.search(
        r"password: (\S+)", basirat(data, "users", "create", "owner@ab.example", "--role", "admin").stdout
    ).group(1)
    live = LiveServer(data, env=ENV).start()
    now = dt.datetime.now(dt.timezone.utc)
    views = [
        {
            "type": "track",
            "event": "Product Viewed",
            "anonymousId": f"history-{n % 5}",
            "messageId": f"view-{n}",
            "timestamp": (now - dt.timedelta(minutes=90 - n)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "properties": {"product_id": PRODUCTS[n % len(PRODUCTS)]},
        }
        for n in range(40)
    ]
    try:
        send(live.url, site["write_key"], views, lambda _m: None)
        live.wait_for(
            f"SELECT count() AS n FROM events WHERE site_id = '{site['site_id']}'",
            lambda rows: rows and int(rows[0]["n"]) >= len(views),
        )
    finally:
        live.stop()
    basirat(data, "jobs", "run", env=ENV)
    started = basirat(data, "experiments", "start", "--site", site["site_id"], "--arms", "served,popular").stdout
    assert "started" in started
    live = LiveServer(data, env=ENV).start()
    yield live, site, password
    live.stop()


def test_visitors_split_between_arms_and_the_admin_sees_each_arms_figures(browser, ab_shop):
    live, site, password = ab_shop
    arms: dict[str, int] = {}
    for _visitor in range(8):
        context = browser.new_context()
        try:
            page = context.new_page()
            with page.expect_response(lambda r: "/v1/recommendations?" in r.url and r.status == 200) as answer:
                page.goto(live.url + "/store/")
            arm = answer.value.json()["arm"]
            arms[arm] = arms.get(arm, 0) + 1
            slot = page.locator("section.recs[data-rec-slot=home] a[data-basirat-item]").first
            slot.wait_for(state="visible", timeout=15000)
            if arms[arm] == 1:  # one click per arm
                slot.evaluate("a => a.addEventListener('click', e => e.preventDefault())")
                slot.click()
            page.wait_for_timeout(300)
        finally:
            context.close()
    assert set(arms) == {"served", "popular"}
    stored = live.wait_for(
        "SELECT arm, count() AS n FROM rec_served_arms GROUP BY arm ORDER BY arm",
        lambda rows: sum(int(r["n"]) for r in rows) >= 8,
    )
    assert {r["arm"]: int(r["n"]) for r in stored} == arms
    live.wait_for(
        f"SELECT count() AS n FROM events WHERE site_id = '{site['site_id']}' AND event = 'Recommendation Clicked'",
        lambda rows: rows and int(rows[0]["n"]) >= 2,
    )

    admin = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = admin.new_page()
        page.goto(live.url + "/login")
        page.fill("input[name=email]", "owner@ab.example")
        page.fill("input[name=password]", password)
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(rf"/s/{site['site_id']}/$"))
        page.goto(f"{live.url}/s/{site['site_id']}/recommendations")
        table = page.locator("table[data-experiment='served-vs-popular']")
        assert table.is_visible()
        for arm, count in arms.items():
            cells = table.locator(f"tr[data-arm={arm}] td").all_inner_texts()
            assert cells[1] == str(count)  # answers
            assert int(cells[2].replace(",", "")) >= count  # impressions: every home slot was shown
            assert int(cells[3]) == 1  # the one click
        assert "control" in table.inner_text()
        screenshot(page, "recommendations-ab-test")
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(page, "recommendations-ab-test-phone")
    finally:
        admin.close()
