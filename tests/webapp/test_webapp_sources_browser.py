"""The customers pages in Chromium against a real ``basirat serve``, at desktop and phone widths."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.browser import screenshot
from tests.support.live import LiveServer, basirat

pytestmark = pytest.mark.process


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data = tmp_path_factory.mktemp("sources-live")
    site = json.loads(basirat(data, "sites", "create", "Tehran Shop", "--json").stdout)
    password = re.search(
        r"password: (\S+)", basirat(data, "users", "create", "owner@shop.example", "--role", "admin").stdout
    ).group(1)
    till, calls = data / "till.csv", data / "calls.csv"
    till.write_text(
        "source_id,first_name,last_name,phone,email\n"
        "T1,سارا,احمدي,0912 345 6789,\nT2,John,Smith,+44 20 7946 0018,\nT3,Reza,Karimi,12,\n"
        "T4,John,Smith,+44 (0)20 7946 0018,\n"
    )
    calls.write_text(
        "source_id,first_name,last_name,phone,email\nC1,سارا,احمدی,+98 912 3456789,sara.ahmadi@example.ir\n"
    )
    common = ("--site", site["site_id"], "--region", "IR")
    basirat(data, "import", "customers", str(till), "--source", "till", *common)
    basirat(data, "import", "customers", str(calls), "--source", "call-centre", *common)
    server = LiveServer(data).start()
    yield server, site, password
    server.stop()


def test_sources_review_and_profile_fit_the_screen(browser, live):
    server, site, password = live
    sid = site["site_id"]
    for width in (1440, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e, seen=problems: seen.append(str(e)))
        page.goto(server.url + "/login")
        page.fill("input[name=email]", "owner@shop.example")
        page.fill("input[name=password]", password)
        page.click("main form button[type=submit]")
        page.goto(server.url + f"/s/{sid}/sources")
        assert page.locator("text=call-centre").count() >= 1
        screenshot(page, f"sources-{width}")
        page.goto(server.url + f"/s/{sid}/sources/review")
        assert page.locator(".match-pair").count() == 1  # one customer registered twice at the till
        screenshot(page, f"sources-review-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.goto(server.url + f"/s/{sid}/people/record:till/T1")
        assert page.locator(".source-records tbody tr").count() == 2  # the till's and the call centre's
        screenshot(page, f"sources-profile-{width}")
        assert problems == []
        context.close()
    page = browser.new_context(viewport={"width": 390, "height": 900}).new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=email]", "owner@shop.example")
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.goto(server.url + f"/s/{sid}/sources/review")
    page.click("button[value=accept]")
    page.wait_for_selector("text=Nothing to review")
    page.goto(server.url + f"/s/{sid}/people/record:till/T2")
    assert page.locator(".source-records tbody tr").count() == 2  # T2 and T4, one person now
    page.context.close()
