"""The tracker in headless Chromium against a real ``basirat serve``: the demo
store is clicked through, and what arrives is read back from the warehouse."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.support.live import LiveServer
from tests.tracker.test_tracker_build import STATIC

pytestmark = pytest.mark.process

COLUMNS = (
    "type, event, name, message_id, url, path, referrer, title, product_id, product_name, category, price, "
    "quantity, order_id, revenue, currency, item_ids, item_quantities, score, comment, library_name, properties"
)
READY = """() => new Promise(r => {
    const f = () => window.basirat?.ready ? r(basirat.anonymousId()) : setTimeout(f, 20);
    f();
})"""


@pytest.fixture
def context(browser):
    ctx = browser.new_context()
    yield ctx
    ctx.close()


def visit(page, url: str) -> str:
    """Open a page and return the visitor's anonymous id once the tracker runs."""
    page.goto(url)
    anon = page.evaluate(READY)
    assert re.fullmatch(r"[a-z0-9-]+", anon)
    return anon


def events(live: LiveServer, anon: str, until=None, timeout: float = 20.0) -> list[dict]:
    """The visitor's events once ``until`` holds; a timeout fails here, naming what did arrive."""
    query = f"SELECT {COLUMNS} FROM events WHERE anonymous_id = '{anon}' ORDER BY timestamp, timestamp_ms"
    rows = live.wait_for(query, until or (lambda rows: True), timeout=timeout)
    assert until is None or until(rows), f"after {timeout:.0f} s only: {[r['event'] or r['type'] for r in rows]}"
    return rows


def named(rows: list[dict], event: str) -> list[dict]:
    return [r for r in rows if r["event"] == event]


def has(event: str, count: int = 1):
    return lambda rows: len(named(rows, event)) >= count


def stored_keys(page) -> list[str]:
    return page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('bsr_e_'))")


def test_a_shopping_visit_arrives_with_the_right_fields(shop, context):
    page = context.new_page()
    anon = visit(page, shop.url + "/store/")
    page.click(".card h3 a[href$='/product/23084']")
    page.wait_for_url("**/product/23084")
    page.fill("input[name=quantity]", "2")
    page.click("#add-to-cart")
    page.wait_for_url("**/store/cart")
    page.click("#checkout")
    page.fill("input[name=name]", "Ada")
    page.fill("input[name=email]", "ada@example.com")
    page.click("#place-order")
    page.wait_for_url("**/order/*")
    order_id = page.inner_text("#order-id")
    page.check("input[name=score][value='4']", force=True)
    page.fill("textarea[name=comment]", "Quick and easy")
    page.click("#send-feedback")
    # Every event asserted on below, not only the last: an event whose send failed is retried after later ones.
    shopped = ("Product Viewed", "Product Added", "Cart Viewed", "Order Completed", "Feedback Submitted")
    rows = events(shop, anon, lambda rows: all(has(name)(rows) for name in shopped), timeout=60)

    home = [r for r in rows if r["type"] == "page" and r["path"] == "/store/"][0]
    assert home["url"] == shop.url + "/store/" and home["title"].startswith("Gifts & homewares")
    assert home["library_name"] == "basirat.js"
    [viewed] = named(rows, "Product Viewed")
    assert (viewed["product_id"], viewed["product_name"], viewed["currency"]) == ("23084", "Rabbit Night Light", "GBP")
    assert viewed["price"] > 0 and viewed["category"] == "Lights & candles"
    assert viewed["referrer"] == shop.url + "/store/"
    [added] = named(rows, "Product Added")
    assert added["product_id"] == "23084" and added["quantity"] == 2
    assert named(rows, "Cart Viewed")[0]["item_ids"] == ["23084"]
    [order] = named(rows, "Order Completed")
    assert order["order_id"] == order_id and order["currency"] == "GBP"
    assert order["revenue"] == pytest.approx(2 * viewed["price"])
    assert order["item_ids"] == ["23084"] and order["item_quantities"] == [2]
    [feedback] = named(rows, "Feedback Submitted")
    assert feedback["score"] == 4 and feedback["comment"] == "Quick and easy" and order_id in feedback["properties"]
    assert len({r["message_id"] for r in rows}) == len(rows)
    order_of = [r["event"] or r["type"] for r in rows]
    assert order_of.index("Product Viewed") < order_of.index("Product Added") < order_of.index("Order Completed")


def test_single_page_navigation_is_tracked(shop, context):
    page = context.new_page()
    anon = visit(page, shop.url + "/store/lookbook/")
    page.evaluate("window.sameDocument = true")
    # A person's pace: route changes closer than 50 ms are one page view.
    page.click("a[data-spa][href$='/tea-time']")
    page.wait_for_timeout(200)
    page.click("a[data-spa][href$='/party']")
    page.wait_for_timeout(200)
    page.go_back()
    page.wait_for_url("**/lookbook/tea-time")
    assert page.evaluate("window.sameDocument") is True  # no reload happened
    rows = events(shop, anon, lambda rows: len([r for r in rows if r["type"] == "page"]) >= 4)
    pages = [r for r in rows if r["type"] == "page"]
    assert [r["path"] for r in pages] == [
        "/store/lookbook/",
        "/store/lookbook/tea-time",
        "/store/lookbook/party",
        "/store/lookbook/tea-time",
    ]
    assert pages[1]["referrer"] == shop.url + "/store/lookbook/"
    assert pages[2]["title"] == "Party · Lookbook · Petit Grenier"


def test_offline_events_arrive_once_each_across_two_tabs(shop, context):
    sent = Counter()

    def count(request):
        if request.url.endswith("/v1/batch") and request.post_data:
            sent.update(m["messageId"] for m in json.loads(request.post_data)["batch"])

    context.on("request", count)
    first, second = context.new_page(), context.new_page()
    anon = visit(first, shop.url + "/store/product/23084")
    assert visit(second, shop.url + "/store/") == anon  # one visitor, two tabs
    events(shop, anon, lambda rows: len([r for r in rows if r["type"] == "page"]) >= 2)
    context.set_offline(True)
    for tab, page in (("first", first), ("second", second)):
        page.evaluate("tab => { for (let n = 0; n < 3; n++) basirat.track('Offline Tried', {n, tab}) }", tab)
    first.click("#wishlist")
    first.wait_for_timeout(1000)
    assert len(stored_keys(first)) == 7  # both tabs' events wait in the shared queue
    assert not named(events(shop, anon), "Offline Tried")
    context.set_offline(False)
    rows = events(shop, anon, has("Offline Tried", 6))
    first.wait_for_timeout(1500)  # anything sent twice would be out by now (and Playwright reports requests)
    rows = events(shop, anon)
    tried = named(rows, "Offline Tried")
    assert sorted((json.loads(r["properties"])["tab"], json.loads(r["properties"])["n"]) for r in tried) == [
        ("first", 0),
        ("first", 1),
        ("first", 2),
        ("second", 0),
        ("second", 1),
        ("second", 2),
    ]
    assert len(named(rows, "Wishlist Clicked")) == 1
    assert [sent[r["message_id"]] for r in tried] == [1] * 6, "each event goes over the network once"
    assert stored_keys(first) == []


def test_events_wait_while_the_collector_is_down(shop, context):
    page = context.new_page()
    anon = visit(page, shop.url + "/store/product/22492")
    events(shop, anon, has("Product Viewed"))
    shop.stop()
    try:
        page.evaluate("for (let n = 0; n < 2; n++) basirat.track('While Down', {n})")
        # Both tried once and failed: they wait in localStorage with a retry time.
        failed = "() => Object.values(localStorage).filter(v => v.includes('While Down') && v.includes('\"n\":1,'))"
        page.wait_for_function(f"() => ({failed})().length == 2")
    finally:
        shop.start()
    # The page itself retries with backoff (at most 30 s apart) until the collector answers.
    events(shop, anon, has("While Down", 2), timeout=40)
    page.wait_for_timeout(1000)
    assert len(named(events(shop, anon), "While Down")) == 2
    assert stored_keys(page) == []


def test_closing_the_tab_right_after_an_action_still_delivers_it(shop, context):
    page = context.new_page()
    anon = visit(page, shop.url + "/store/product/23084")
    events(shop, anon, has("Product Viewed"))
    page.click("#wishlist")
    page.close()
    page = context.new_page()
    visit(page, shop.url + "/store/product/22492")
    page.click("#add-to-cart", no_wait_after=True)
    page.close()
    rows = events(shop, anon, lambda rows: has("Wishlist Clicked")(rows) and has("Product Added")(rows))
    assert len(named(rows, "Wishlist Clicked")) == 1
    assert [r["product_id"] for r in named(rows, "Product Added")] == ["22492"]


@pytest.mark.parametrize("signal", ["globalPrivacyControl", "doNotTrack"])
def test_privacy_signals_leave_nothing_persistent(shop, browser, signal):
    # Chromium sends neither signal to scripts on its own; this is what browsers that do expose.
    value = "true" if signal == "globalPrivacyControl" else "'1'"
    ctx = browser.new_context()
    ctx.add_init_script(f"Object.defineProperty(Navigator.prototype, '{signal}', {{get: () => {value}}})")
    try:
        page = ctx.new_page()
        first = visit(page, shop.url + "/store/product/23084")
        page.click("#wishlist")
        events(shop, first, has("Wishlist Clicked"))
        second = visit(page, shop.url + "/store/")
        assert second != first  # no id outlives a page
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0
        assert page.evaluate("document.cookie") == "" and ctx.cookies() == []
        page.evaluate("basirat.consent(true)")  # the visitor agrees: now the id may stay
        assert visit(page, shop.url + "/store/") == second
        page.evaluate("basirat.consent(false)")
        assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('bsr_'))") == []
    finally:
        ctx.close()


def test_recommendations_shown_and_clicked(shop, context):
    page = context.new_page()
    anon = visit(page, shop.url + "/store/")
    assert page.locator("section.recs[data-rec-slot=home]").is_hidden()  # no endpoint answers yet
    render = """([rec, ids]) => {
        const grid = document.createElement('div');
        grid.dataset.basiratRecId = rec; grid.dataset.basiratSlot = 'home';
        for (const id of ids) {
            const a = document.createElement('a'); a.href = '#'; a.textContent = id; a.dataset.basiratItem = id;
            grid.append(a);
        }
        document.querySelector('main').append(grid);
    }"""
    page.evaluate(render, ["rec-1", ["23084", "22492", "21731"]])
    page.evaluate("document.querySelector('main').append(document.createElement('p'))")
    page.evaluate(render, ["rec-2", ["84879"]])
    page.click("[data-basirat-item='22492']")
    page.evaluate("document.querySelector('footer a[rel]').addEventListener('click', e => e.preventDefault())")
    page.click("footer a[rel]")
    with page.expect_download():
        page.click("footer a[download]")
    rows = events(shop, anon, lambda rows: has("Recommendation Shown", 2)(rows) and has("File Downloaded")(rows))
    shown = [json.loads(r["properties"]) for r in named(rows, "Recommendation Shown")]
    assert sorted(shown, key=lambda s: s["recommendation_id"]) == [
        {"recommendation_id": "rec-1", "slot": "home", "item_ids": ["23084", "22492", "21731"]},
        {"recommendation_id": "rec-2", "slot": "home", "item_ids": ["84879"]},
    ]
    [clicked] = named(rows, "Recommendation Clicked")
    assert json.loads(clicked["properties"]) == {"recommendation_id": "rec-1", "slot": "home", "item_id": "22492"}
    [outbound] = named(rows, "Outbound Link Clicked")
    assert json.loads(outbound["properties"])["url"].startswith("https://archive.ics.uci.edu/")
    [download] = named(rows, "File Downloaded")
    assert json.loads(download["properties"])["url"].endswith("/store/static/delivery-terms.txt")


def test_the_pasted_snippet_keeps_calls_made_before_the_tracker_loads(shop, context):
    snippet = (STATIC / "snippet.js").read_text().replace("HOST", shop.url).replace("WRITE_KEY", shop.site["write_key"])
    html = f"""<!doctype html><title>Another shop</title><script>{snippet}
    basirat.identify("cust-77", {{plan: "gold"}});
    basirat.track("Queued Early", {{n: 1}});
    </script><a href="https://example.org/elsewhere">partner</a>"""
    page = context.new_page()
    page.route(shop.url + "/elsewhere-shop", lambda route: route.fulfill(body=html, content_type="text/html"))
    anon = visit(page, shop.url + "/elsewhere-shop")
    rows = events(shop, anon, lambda rows: has("Queued Early")(rows) and any(r["type"] == "page" for r in rows))
    [early] = named(rows, "Queued Early")
    assert early["title"] == "Another shop" and json.loads(early["properties"]) == {"n": 1}
    identify = [r for r in rows if r["type"] == "identify"]
    assert len(identify) == 1 and early["library_name"] == "basirat.js"
    stored = shop.sql(f"SELECT user_id FROM events WHERE message_id = '{early['message_id']}'")
    assert stored == [{"user_id": "cust-77"}]  # identify, queued first, applied first
