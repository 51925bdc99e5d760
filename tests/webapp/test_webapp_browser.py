"""The admin in a real Chromium against a real ``basirat serve``: every page, no errors, screenshots."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from basirat.demo import send
from tests.support.browser import screenshot
from tests.support.live import LiveServer, basirat

pytestmark = pytest.mark.process


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data = tmp_path_factory.mktemp("admin-live")
    site = json.loads(basirat(data, "sites", "create", "Corner Shop", "--domain", "corner.example", "--json").stdout)
    password = re.search(
        r"password: (\S+)", basirat(data, "users", "create", "owner@corner.example", "--role", "admin").stdout
    ).group(1)
    server = LiveServer(data).start()
    now = dt.datetime.now(dt.timezone.utc)
    messages = [
        {
            "type": "track",
            "event": event,
            "anonymousId": f"anon-{n % 7}",
            "messageId": f"msg-{n}-{event}",
            "timestamp": (now - dt.timedelta(days=n % 12, hours=n % 5)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "properties": {"order_id": f"o{n}", "revenue": 20 + n, "currency": "EUR"}
            if event == "Order Completed"
            else {"product_id": f"p{n % 4}", "name": "Mug <b>&</b>"},
        }
        for n in range(60)
        for event in (["Product Viewed"] if n % 6 else ["Product Viewed", "Order Completed"])
    ]
    messages.append(
        {
            "type": "track",
            "event": "Feedback Submitted",
            "anonymousId": "anon-1",
            "messageId": "msg-feedback",
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "properties": {"score": 4},
        }
    )
    send(server.url, site["write_key"], messages, lambda _m: None)
    server.wait_for(
        f"SELECT count() AS n FROM events WHERE site_id = '{site['site_id']}'",
        lambda rows: rows and int(rows[0]["n"]) >= len(messages),
    )
    yield server, {**site, "events_sent": len(messages)}, password
    server.stop()


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    return problems


def _sign_in(page, server, site, password, shot: str | None = None) -> None:
    page.goto(server.url + "/")
    assert page.url.startswith(server.url + "/login")
    if shot:
        screenshot(page, shot)
    page.fill("input[name=email]", "owner@corner.example")
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(rf"/s/{site['site_id']}/$"))


def test_every_page_in_chromium(browser, live):
    server, site, password = live
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = _watch(page)
    _sign_in(page, server, site, password, shot="admin-login")
    page.wait_for_selector(".chart canvas")
    assert page.locator(".figure-value").count() == 4
    screenshot(page, "admin-dashboard")
    sid = site["site_id"]
    pages = {
        "admin-sites": "/sites",
        "admin-site-new": "/sites/new",
        "admin-site-settings": f"/s/{sid}/settings",
        "admin-rotate-key": f"/s/{sid}/keys/write_key/rotate",
        "admin-live-events": f"/s/{sid}/events",
        "admin-live-events-orders": f"/s/{sid}/events?type=track&event=Order+Completed",
        "admin-live-events-empty-filter": f"/s/{sid}/events?type=identify",
        "admin-api-tokens-empty": "/tokens",
        "admin-users": "/users",
        "admin-visitors": f"/s/{sid}/visitors",
        "admin-visitor-search": f"/s/{sid}/visitors?q=o6",
        "admin-visitor-profile": f"/s/{sid}/people/anon:anon-1",
        "admin-recommendations": f"/s/{sid}/recommendations",
        "admin-user-new": "/users/new",
        "admin-not-found": "/no/such/page",
        "admin-customers": f"/s/{sid}/customers",
        "insights-kpis": f"/s/{sid}/kpis",
        "insights-segments": f"/s/{sid}/segments",
        "insights-audience": f"/s/{sid}/audience?product=p1",
    }
    for name, path in pages.items():
        response = page.goto(server.url + path)
        assert response.status == (404 if name == "admin-not-found" else 200), path
        screenshot(page, name)
        if name == "admin-not-found":  # Chromium logs the page's own 404 status; nothing else may appear
            assert problems.pop().endswith("404 (NOT FOUND)")
    page.goto(server.url + f"/s/{sid}/people/anon:anon-1")  # the jobs' results arrive after the page
    page.wait_for_selector("[data-fragment] >> text=No segment, score or recommendation for this person yet")
    screenshot(page, "admin-visitor-profile-job-results")
    page.goto(server.url + "/users")
    page.click("text=Edit")
    page.wait_for_selector("select[name=role]")
    screenshot(page, "admin-user-edit")
    page.goto(server.url + "/users/new")
    page.fill("input[name=email]", "analyst@corner.example")
    page.check(f"input[value={sid}]")
    page.click("main form button[type=submit]")
    assert page.locator("#password").inner_text().strip()
    screenshot(page, "admin-user-created")
    page.goto(server.url + f"/s/{sid}/events")
    assert page.locator("table.events tbody tr").count() == 50 and "Page 1 of 2" in page.inner_text(".pagination")
    page.locator("table.events details summary").first.click()
    screenshot(page, "admin-live-events-properties")
    page.goto(server.url + "/tokens")
    page.fill("input[name=label]", "nightly export")
    page.click("main form button[type=submit]")
    token = page.locator("#token").inner_text().strip()
    screenshot(page, "admin-api-token-created")
    api = context.request.get(server.url + f"/api/v1/sites/{sid}/summary", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 200 and api.json()["events"] == site["events_sent"]
    page.goto(server.url + "/tokens")
    screenshot(page, "admin-api-tokens")
    page.click("text=Revoke")
    page.wait_for_selector(".flash-success")
    assert context.request.get(server.url + "/api/v1/sites", headers={"Authorization": f"Bearer {token}"}).status == 401
    page.goto(server.url + f"/s/{sid}/settings")
    snippet = page.locator("#snippet").inner_text()
    assert f'data-write-key="{site["write_key"]}"' in snippet and f"{server.url}/t.js" in snippet
    page.click("details.switcher summary")
    page.wait_for_selector("details.switcher[open] ul a")
    screenshot(page, "admin-site-switcher")
    page.click("text=Sign out")
    page.wait_for_url(re.compile("/login"))
    context.close()
    assert problems == []


def test_the_whole_nav_shows_at_laptop_widths(browser, live):
    """An admin's thirteen links are wider than what is left beside the site and
    the user on most laptops: the nav must then take a row of its own, never
    hide links behind a scroll with no cue."""
    server, site, password = live
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    _sign_in(page, server, site, password)
    for width in (1280, 1366, 1440, 1680, 1920):
        page.set_viewport_size({"width": width, "height": 800})
        fit = page.evaluate("""() => {
            const nav = document.querySelector('.nav');
            return {links: nav.querySelectorAll('a').length, scroll: nav.scrollWidth, client: nav.clientWidth,
                    page: document.documentElement.scrollWidth};
        }""")
        assert fit["links"] == 13 and fit["scroll"] <= fit["client"], (width, fit)
        assert fit["page"] <= width, (width, fit)
        assert page.locator(".signout .muted").inner_text().endswith("· admin"), width
    page.set_viewport_size({"width": 390, "height": 800})
    assert not page.locator(".signout .muted").is_visible()  # a phone keeps the row for the nav
    screenshot(page, "admin-nav-phone")
    context.close()


def test_kpi_charts_read_without_hovering_and_the_page_says_it_is_counting(browser, live):
    server, site, password = live
    sid = site["site_id"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = _watch(page)
    _sign_in(page, server, site, password)
    page.goto(server.url + f"/s/{sid}/kpis")
    page.wait_for_selector(".uplot")
    legends = page.locator(".uplot .u-legend").all_inner_texts()
    assert legends and all("--" not in text and "Time" not in text for text in legends), legends
    # One month of feedback: the time axis spans about that month, not years around it.
    scale = page.evaluate("document.querySelector('[data-chart=kpi-satisfaction]').uplot.scales.x")
    assert 25 * 86400 <= scale["max"] - scale["min"] <= 35 * 86400, scale
    assert "Month" in page.locator("[data-chart=kpi-satisfaction] .u-legend").inner_text()
    bars = page.locator("table.funnel rect.fill")
    assert bars.count() == 4 and bars.first.get_attribute("width") == "100.00"
    assert float(bars.last.get_attribute("width")) < 100
    assert page.locator("table.cohorts td.heat").count() > 0
    screenshot(page, "admin-kpis-charts")

    # From the click on, the form says it is counting. The first submit is held back in the page:
    # a script evaluated while a held navigation is pending can wait forever in Chromium.
    page.evaluate("() => document.addEventListener('submit', (e) => e.preventDefault(), {once: true})")
    page.click("form[data-busy] button[type=submit]")
    busy = page.evaluate(
        "() => { const f = document.querySelector('form[data-busy]');"
        " return [f.getAttribute('aria-busy'), f.querySelector('.busy-note').textContent]; }"
    )
    assert busy == ["true", "Counting…"]
    with page.expect_navigation():
        page.click("form[data-busy] button[type=submit]")
    page.wait_for_selector("form[data-busy]:not([aria-busy])")
    assert not problems, problems
    context.close()
