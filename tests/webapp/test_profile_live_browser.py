"""A shopper in Chromium browses the demo store, signs in, orders and rates the order; the admin's
profile shows the visit, its pages, the order with its line items by name and the rating within
seconds, before any job has run."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.support.browser import CHROMIUM, FLAGS, screenshot
from tests.support.live import LiveServer, basirat
from tests.tracker.test_tracker_browser import READY

pytestmark = pytest.mark.process
FRESH_WITHIN = 10.0
# Headless Chromium names itself HeadlessChrome, which the collector marks as a bot; a shopper's browser does not.
SHOPPER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("profile-live")
    site = json.loads(basirat(data, "sites", "create", "Demo store", "--domain", "127.0.0.1", "--json").stdout)
    password = re.search(
        r"password: (\S+)", basirat(data, "users", "create", "owner@shop.example", "--role", "admin").stdout
    ).group(1)
    server = LiveServer(data, env={"BASIRAT_STOREFRONT": "true", "BASIRAT_SCHEDULER_IN_SERVE": "false"}).start()
    yield server, site, password
    server.stop()


def shop(page, url: str) -> tuple[str, str, str, float]:
    """Browse, sign in, order, rate: (anonymous id, customer number, order id, when it was placed)."""
    page.goto(url + "/store/")
    anon = page.evaluate(READY)
    page.click(".card h3 a[href$='/product/23084']")
    page.wait_for_url("**/product/23084")
    page.fill("input[name=quantity]", "2")
    page.click("#add-to-cart")
    page.wait_for_url("**/store/cart")
    page.goto(url + "/store/login")
    number = re.search(r"\d{5}", page.get_attribute("#customer", "placeholder")).group(0)
    page.fill("#customer", number)
    page.click("#sign-in")
    page.wait_for_url("**/store/")
    page.evaluate(READY)
    page.goto(url + "/store/cart")
    page.click("#checkout")
    page.fill("input[name=name]", "Ada")
    page.fill("input[name=email]", "ada@example.com")
    page.click("#place-order")
    placed = time.monotonic()
    page.wait_for_url("**/order/*")
    order_id = page.inner_text("#order-id")
    page.check("input[name=score][value='4']", force=True)
    page.fill("textarea[name=comment]", "Quick and easy")
    page.click("#send-feedback")
    page.wait_for_url("**/order/*")
    page.evaluate(READY)
    return anon, number, order_id, placed


def test_a_shopper_is_on_the_profile_with_the_order_by_name_and_the_rating_within_seconds(browser, store):
    server, site, password = store
    admin = browser.new_context(viewport={"width": 1280, "height": 900})  # the owner is signed in already
    page = admin.new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=email]", "owner@shop.example")
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/s/{site['site_id']}/$"))
    # The agent is the browser's own (a launch flag): beacons sent as a page unloads ignore a context's.
    shopper = browser.browser_type.launch(executable_path=CHROMIUM, args=[*FLAGS, f"--user-agent={SHOPPER_AGENT}"])
    try:
        # The shopper stays on the confirmation page while the owner looks.
        anon, number, order_id, ordered_at = shop(shopper.new_page(), server.url)
        check_profile(page, server, site, anon, number, order_id, ordered_at)
    finally:
        shopper.close()
    admin.close()


def check_profile(page, server, site, anon: str, number: str, order_id: str, ordered_at: float) -> None:
    """The owner searches Visitors for the customer and opens the profile until the order and the
    rating are on it, at most ``FRESH_WITHIN`` seconds after the order was placed."""
    profile = None
    while time.monotonic() - ordered_at < FRESH_WITHIN:
        page.goto(f"{server.url}/s/{site['site_id']}/visitors?q=cust-{number}")
        link = page.locator("a.person")
        if link.count():
            link.first.click()
            page.wait_for_selector(".timeline, .empty, main")
            # The page's parts are separate reads: the rating may reach one before another.
            rated = page.locator("td", has_text="Quick and easy").count()
            rated = rated and page.locator(".timeline .visit .actions", has_text="Rated").count()
            if rated and page.locator(".orders td.mono", has_text=order_id).count():
                profile = page
                break
        time.sleep(0.5)
    waited = time.monotonic() - ordered_at
    screenshot(page, "profile-live")
    assert profile is not None, f"the order and its rating were not on the profile {waited:.1f} s after it was placed"

    line = page.locator(".orders .line-items li").first.inner_text()
    assert "Rabbit Night Light" in line and "× 2" in line
    visit = page.locator(".timeline .visit").first
    actions = visit.locator(".actions").inner_text()
    assert "/store/product/23084" in actions and "/store/cart" in actions and order_id in actions
    head = visit.locator(".visit-head").inner_text()
    assert re.search(r"\d+ (s|min)", head) and "Chrome 131 on Windows 10" in head
    assert "Rated" in actions
    evidence = page.locator("td", has_text=f"signed in as customer cust-{number}").count()
    assert evidence == 1, "the browser is linked to the customer, in words"
    assert f"anon:{anon}" in page.content()

    page.set_viewport_size({"width": 390, "height": 900})
    page.reload()
    screenshot(page, "profile-live-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the profile fits a phone's width"

    page.goto(f"{server.url}/s/{site['site_id']}/visitors")
    assert page.locator("table.visitors td.mono", has_text=anon).count() == 1
