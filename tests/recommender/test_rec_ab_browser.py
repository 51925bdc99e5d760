"""An A/B test end to end: browsers on the demo store split between arms, the admin reads the result.

Real ``basirat serve``, real Chromium, real tracker: the admin starts the test
on the Recommendations page, then each browser context is a new visitor whose
home page asks the endpoint for recommendations; the answer names the
visitor's arm, the tracker reports what was shown and clicked, the page shows
impressions and clicks per arm, and the admin stops the test there.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import urllib.request

import pytest

from basirat.demo import send
from tests.support.browser import screenshot
from tests.support.live import LiveServer, basirat

pytestmark = pytest.mark.process

PRODUCTS = ["23084", "22492", "21731", "84879"]
ENV = {"BASIRAT_STOREFRONT": "true", "BASIRAT_REC_MIN_VISITORS": "1", "BASIRAT_RECOMMENDER_POLL_SECONDS": "0.5"}


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
    live = LiveServer(data, env=ENV).start()
    yield live, site, password
    live.stop()


def _sign_in(page, live, password):
    page.goto(live.url + "/login")
    page.fill("input[name=email]", "owner@ab.example")
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/s/[^/]+/$"))


def _visit(browser, live) -> str:
    """One new visitor on the store's home page, clicking its first recommendation; returns the arm."""
    context = browser.new_context()
    try:
        page = context.new_page()
        with page.expect_response(lambda r: "/v1/recommendations?" in r.url and r.status == 200) as answer:
            page.goto(live.url + "/store/")
        arm = answer.value.json().get("arm", "")
        slot = page.locator("section.recs[data-rec-slot=home] a[data-basirat-item]").first
        slot.wait_for(state="visible", timeout=15000)
        slot.evaluate("a => a.addEventListener('click', e => e.preventDefault())")
        slot.click()
        page.wait_for_timeout(300)
        return arm
    finally:
        context.close()


def test_an_admin_splits_visitors_between_arms_and_reads_each_arms_figures(browser, ab_shop):
    live, site, password = ab_shop
    admin = browser.new_context(viewport={"width": 1440, "height": 900})
    page = admin.new_page()
    _sign_in(page, live, password)
    page.goto(f"{live.url}/s/{site['site_id']}/recommendations")
    start = page.locator("form[data-form=start-experiment]")
    screenshot(page, "recommendations-ab-start")
    start.locator("select[name=control]").select_option("served")
    start.locator("input[name=arms][value=popular]").check()
    start.locator("button[type=submit]").click()
    page.wait_for_selector("form[data-form=stop-experiment]")
    assert "served-vs-popular" in page.inner_text("main")

    clicks: dict[str, int] = {}
    for _attempt in range(20):  # the endpoint picks the experiment up within a poll
        if _visit(browser, live):
            break
        time.sleep(0.5)
    # Each new visitor's arm is a hash of a random id: 8 visitors all land in one arm once in 128 runs,
    # so visitors keep coming until both arms have had some (at most 30).
    visits = 0
    while visits < 8 or (len(clicks) < 2 and visits < 30):
        arm = _visit(browser, live)
        clicks[arm] = clicks.get(arm, 0) + 1
        visits += 1
    assert set(clicks) == {"served", "popular"}
    stored = live.wait_for(
        "SELECT arm, count() AS n FROM rec_served_arms GROUP BY arm ORDER BY arm",
        lambda rows: sum(int(r["n"]) for r in rows) >= visits + 1,
    )
    answers = {r["arm"]: int(r["n"]) for r in stored}
    assert set(answers) == {"served", "popular"} and sum(answers.values()) >= visits + 1
    live.wait_for(
        f"SELECT count() AS n FROM events WHERE site_id = '{site['site_id']}' AND event = 'Recommendation Clicked'",
        lambda rows: rows and int(rows[0]["n"]) >= visits + 1,
    )

    try:
        page.goto(f"{live.url}/s/{site['site_id']}/recommendations")
        table = page.locator("table[data-experiment='served-vs-popular']")
        assert table.is_visible()
        for arm, count in answers.items():
            cells = table.locator(f"tr[data-arm={arm}] td").all_inner_texts()
            assert cells[1] == str(count)  # answers
            assert int(cells[2].replace(",", "")) >= count  # impressions: every home slot was shown
            assert int(cells[3]) >= clicks.get(arm, 0)  # one click per visitor
        assert "control" in table.inner_text()
        screenshot(page, "recommendations-ab-test")
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(page, "recommendations-ab-test-phone")
        page.set_viewport_size({"width": 1440, "height": 900})
        page.locator("form[data-form=stop-experiment] button").click()
        page.wait_for_selector("form[data-form=start-experiment]", state="attached")
        assert page.locator("form[data-form=stop-experiment]").count() == 0
        assert "stopped" in page.inner_text("main")
    finally:
        admin.close()
    assert "arm" not in _answer_for_new_visitor(live, site)


def _answer_for_new_visitor(live, site) -> dict:
    query = f"key={site['public_key']}&anonymousId=after-the-test&context=home"
    for _attempt in range(20):  # until the endpoint has seen the stop
        with urllib.request.urlopen(f"{live.url}/v1/recommendations?{query}", timeout=10) as answer:
            body = json.loads(answer.read())
        if "arm" not in body:
            return body
        time.sleep(0.5)
    return body
