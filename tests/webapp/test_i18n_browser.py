"""Every admin page and the demo store, in Persian and in English, at 1440 and 390 px, in a real
Chromium against a real ``basirat serve``: the page's direction, no English left on a Persian page,
nothing wider than the screen, Jalali dates and Persian digits on a Jalali site, folded search."""

from __future__ import annotations

import datetime as dt
import json
import re

import jdatetime
import pytest

from basirat.demo import send
from core import calendars
from tests.support import catalogues
from tests.support.browser import screenshot
from tests.support.live import LiveServer, basirat
from warehouse.queries.kpis import FUNNEL_STEPS

pytestmark = pytest.mark.process

WIDTHS = (1440, 390)
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
JALALI_DATE = re.compile(r"۱۴[۰-۹]{2}/[۰-۱][۰-۹]/[۰-۳][۰-۹]")
# Elements wider than the screen that no scrolling box holds (a table inside its scrolling card is fine).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth, found = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || (r.right <= width + 1 && r.left >= -1) || !el.checkVisibility()) continue;
    let held = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') { held = true; break; }
    }
    if (!held) found.push(`${el.tagName}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  return {scroll: document.documentElement.scrollWidth, width, found: found.slice(0, 8)};
}"""


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data = tmp_path_factory.mktemp("i18n-live")
    site = json.loads(basirat(data, "sites", "create", "Demo store", "--domain", "shop.example", "--json").stdout)
    password = re.search(
        r"password: (\S+)", basirat(data, "users", "create", "owner@shop.example", "--role", "admin").stdout
    ).group(1)
    server = LiveServer(data, env={"BASIRAT_STOREFRONT": "1"}).start()
    now = dt.datetime.now(dt.timezone.utc)
    stamp = lambda n: (now - dt.timedelta(days=n % 12, hours=n % 5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
    messages = [
        {
            "type": "track",
            "event": "Order Completed" if n % 6 == 0 else "Product Viewed",
            "anonymousId": f"anon-{n % 7}",
            "messageId": f"msg-{n}",
            "timestamp": stamp(n),
            "properties": {"order_id": f"o{n}", "revenue": 250_000 + n, "currency": "IRR"}
            if n % 6 == 0
            else {"product_id": f"bag-{n % 3}", "name": ["کیف چرمی", "کیف پول", "کفش"][n % 3], "price": 10},
        }
        for n in range(60)
    ]
    send(server.url, site["write_key"], messages, lambda _m: None)
    server.wait_for(
        f"SELECT count() AS n FROM events WHERE site_id = '{site['site_id']}'",
        lambda rows: rows and int(rows[0]["n"]) >= len(messages),
    )
    basirat(data, "jobs", "run")  # every job: catalogue, visits, segments and scores for the pages to show
    yield server, site, password
    server.stop()


def _sign_in(page, server, password) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=email]", "owner@shop.example")
    page.fill("input[name=password]", password)
    page.click("main form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/s/\w+/$"))


def _admin_pages(sid: str) -> dict[str, str]:
    return {
        "dashboard": f"/s/{sid}/",
        "sites": "/sites",
        "site-new": "/sites/new",
        "site-settings": f"/s/{sid}/settings",
        "rotate-key": f"/s/{sid}/keys/write_key/rotate",
        "events": f"/s/{sid}/events",
        "tokens": "/tokens",
        "users": "/users",
        "user-new": "/users/new",
        "visitors": f"/s/{sid}/visitors",
        "visitor-search": f"/s/{sid}/visitors?q=nobody",
        "visitors-sorted": f"/s/{sid}/visitors?buyers=1&days=90&sort=revenue&dir=desc",
        "customers": f"/s/{sid}/customers",
        "customers-leaving": f"/s/{sid}/customers?sort=churn&dir=desc&churn=50",
        "customers-product": f"/s/{sid}/customers?product=كيف",
        "profile": f"/s/{sid}/people/anon:anon-1",
        "job-results": f"/s/{sid}/visitors/job-results?ref=anon:anon-1",
        "recommendations": f"/s/{sid}/recommendations",
        "kpis": f"/s/{sid}/kpis?range=this_month",
        "kpis-range": f"/s/{sid}/kpis?range=last_30_days",
        "segments": f"/s/{sid}/segments",
        "audience": f"/s/{sid}/audience?product=bag-1",
        "audience-search": f"/s/{sid}/audience?product=كيف",
        "sources": f"/s/{sid}/sources",
        "sources-review": f"/s/{sid}/sources/review",
        "segment-new": f"/s/{sid}/segments/new",
        "segment-edit": f"/s/{sid}/segments/buyers/edit",
        "kpi-visitors": f"/s/{sid}/kpis/people?show=visitors&range=last_30_days",
        "kpi-step": f"/s/{sid}/kpis/people?show=step1&range=last_30_days",
        "kpi-orders": f"/s/{sid}/kpis/orders?range=last_30_days",
        "not-found": "/no/such/page",
    }


# The nav entry lit on each page whose entry is not its own name (by the end of its link).
LIT = {
    "segment": "/segments",
    "segment-new": "/segments",
    "segment-edit": "/segments",
    "kpi-visitors": "/kpis",
    "kpi-step": "/kpis",
    "kpi-orders": "/kpis",
    "kpi-cohort": "/kpis",
    "site-new": "/sites",
    "profile": "/visitors",
    "sources-review": "/sources",
}


def _check_nav(page, name: str, width: int) -> None:
    """One entry lit (the right one), and every entry in sight at this width."""
    if name == "not-found":
        return
    lit = page.locator(".nav a[aria-current=page]")
    assert lit.count() == 1, (name, lit.count())
    if name in LIT:
        assert lit.get_attribute("href").endswith(LIT[name]), (name, lit.get_attribute("href"))
    boxes = page.evaluate("() => [...document.querySelectorAll('.nav a')].map(a => a.getBoundingClientRect().right)")
    assert boxes and max(boxes) <= width, (name, width, boxes)


def _check_page(page, name: str, language: str, width: int, english: list[str]) -> None:
    fit = page.evaluate(OVERFLOW)
    assert fit["scroll"] <= width and fit["found"] == [], (name, language, width, fit)
    html = page.locator("html")
    assert html.get_attribute("lang") == language
    assert html.get_attribute("dir") == ("rtl" if language == "fa" else "ltr"), name
    if language == "fa":
        text = page.inner_text("body")
        left = [s for s in english if s in text]
        assert left == [], (name, left)
        shown = ".nav a, h1, .page-header p, th, .figure-label, label, button:not([lang])"
        labels = page.locator(shown).all_inner_texts()
        untranslated = [t for t in labels if t.strip() and not re.search(r"[\u0600-\u06ff]", t) and _ui(t)]
        assert untranslated == [], (name, untranslated)


def _ui(text: str) -> bool:
    """Words that are not data or names that stay Latin in Persian (ids, codes, API, RFM, HR@20...)."""
    return bool(re.search(r"\b[A-Za-z]{3,}\b", text)) and not re.fullmatch(
        r"[\s\w@.:+\-–/()]*(API|RFM|CSV|HR|MRR|OpenAPI|s_\w+|anon|owner@\S+|Demo store|bag-\d|\d+)[\s\w@.:+\-–/()]*",
        text.strip(),
    )


def _build_segment(page, server, sid: str) -> None:
    """A custom segment made in the builder: the count follows the form as it is typed, then saves."""
    page.goto(server.url + f"/s/{sid}/segments/new")
    page.fill("input[name=name]", "buyers")
    page.select_option("select[name=op_orders]", ">=")
    page.fill("input[name=value_orders]", "x")
    page.wait_for_selector("[data-preview][role=alert]:has-text('Orders: type a number')")
    page.fill("input[name=value_orders]", "1")
    page.wait_for_selector("[data-preview]:has-text('people match now')")
    assert re.match(r"[1-9]\d* people match now", page.inner_text("[data-preview]")), page.inner_text("[data-preview]")
    page.click("button[value=save]")
    page.wait_for_selector(".flash-success")
    assert "buyers" in page.inner_text("#custom-segments")


def test_every_admin_page_in_persian_and_english(browser, live):
    server, site, password = live
    sid = site["site_id"]
    # The funnel's step names are also event names, which pages show as data.
    english = [s for s in catalogues.english_ui_strings("webapp") if s not in FUNNEL_STEPS]
    setup = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = setup.new_page()
    _sign_in(page, server, password)
    page.goto(server.url + f"/s/{sid}/settings")
    page.select_option("select[name=calendar]", "jalali")
    page.fill("input[name=timezone]", "Asia/Tehran")
    page.fill("input[name=currency]", "IRR")
    page.select_option("select[name=money_unit]", "toman")
    page.click("#display button[type=submit]")
    page.wait_for_selector(".flash-success")
    _build_segment(page, server, sid)
    setup.close()
    problems: list[str] = []
    for language, accept in (("fa", "fa-IR"), ("en", "en-US")):
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale=accept)
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(server.url + "/login")
            _check_page(page, "login", language, width, english)
            screenshot(page, f"i18n-{language}-{width}-login")
        _sign_in(page, server, password)
        pages = _admin_pages(sid)
        page.goto(server.url + f"/s/{sid}/segments")
        segment = page.locator("table tbody a").first.get_attribute("href")
        page.goto(server.url + f"/s/{sid}/kpis?range=last_30_days")
        cohort_cell = page.locator("a.cell-link").first.get_attribute("href")
        page.goto(server.url + "/users")
        pages.update(
            {
                "segment": segment,
                "kpi-cohort": cohort_cell,
                "user-edit": page.locator("a:has-text('Edit'), a:has-text('ویرایش')").first.get_attribute("href"),
            }
        )
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for name, path in pages.items():
                response = page.goto(server.url + path)
                assert response.status == (404 if name == "not-found" else 200), (language, path)
                if name in ("dashboard", "kpis", "kpis-range"):
                    page.wait_for_selector(".chart canvas")
                _check_page(page, name, language, width, english)
                _check_nav(page, name, width)
                screenshot(page, f"i18n-{language}-{width}-{name}")
        context.close()
    assert problems == []


def test_a_jalali_site_in_persian(browser, live):
    server, site, password = live
    sid = site["site_id"]
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fa-IR")
    page = context.new_page()
    _sign_in(page, server, password)
    # The site was set to Jalali in Tehran by the test before, or is set here when run alone.
    page.goto(server.url + f"/s/{sid}/settings")
    if page.input_value("input[name=timezone]") != "Asia/Tehran":
        page.select_option("select[name=calendar]", "jalali")
        page.fill("input[name=timezone]", "Asia/Tehran")
        page.fill("input[name=currency]", "IRR")
        page.select_option("select[name=money_unit]", "toman")
        page.click("#display button[type=submit]")
        page.wait_for_selector(".flash-success")
    page.goto(server.url + f"/s/{sid}/kpis")
    page.click(".ranges a[href*=this_month]")
    page.wait_for_selector(".chart canvas")
    first = jdatetime.date.fromgregorian(date=calendars.today("Asia/Tehran")).replace(day=1)
    header = page.inner_text(".page-header p")
    assert header.startswith(first.strftime("%Y/%m/%d").translate(PERSIAN_DIGITS)), header
    assert page.input_value("input[name=from]") == first.strftime("%Y-%m-%d").translate(PERSIAN_DIGITS)
    figures = page.locator(".figure-value").all_inner_texts()
    assert figures and all(re.search("[۰-۹]", f) and not re.search("[0-9]", f) for f in figures), figures
    assert "تومان" in " ".join(figures)
    page.goto(server.url + "/sites")
    assert JALALI_DATE.search(page.inner_text("table")), page.inner_text("table")
    page.goto(server.url + f"/s/{sid}/events")
    assert JALALI_DATE.search(page.inner_text("table.events"))
    page.goto(server.url + f"/s/{sid}/audience")
    page.fill("input[name=product]", "كيف")  # Arabic kaf and yeh
    page.click("main form button[type=submit]")
    found = page.inner_text("main table")
    assert "کیف چرمی" in found and "کیف پول" in found and "کفش" not in found
    screenshot(page, "i18n-fa-audience-search")
    page.goto(server.url + f"/s/{sid}/")
    page.wait_for_selector(".chart canvas")
    ticks = page.evaluate(
        """() => [...document.querySelectorAll('.u-axis')].map(a => a.getBoundingClientRect().left)"""
    )
    plot = page.evaluate("() => document.querySelector('.u-over').getBoundingClientRect().left")
    assert any(left > plot for left in ticks), (ticks, plot)  # the value axis stands on the right
    context.close()


def test_the_jalali_date_picker(browser, live):
    """On a Jalali site the range's date fields open a Persian month grid, by mouse and by keyboard."""
    server, site, password = live
    sid = site["site_id"]
    context = browser.new_context(viewport={"width": 390, "height": 800}, locale="fa-IR")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    _sign_in(page, server, password)
    page.goto(server.url + f"/s/{sid}/settings")
    if page.input_value("input[name=timezone]") != "Asia/Tehran":
        page.select_option("select[name=calendar]", "jalali")
        page.fill("input[name=timezone]", "Asia/Tehran")
        page.click("#display button[type=submit]")
        page.wait_for_selector(".flash-success")
    page.goto(server.url + f"/s/{sid}/kpis")
    today = calendars.today("Asia/Tehran")
    shown = jdatetime.date.fromgregorian(date=today - dt.timedelta(days=29))  # the default range's first day
    page.click("input[name=from] ~ .datepicker-toggle")
    popup = page.locator(".datepicker-popup:not([hidden])")
    title = f"{jdatetime.date.j_months_fa[shown.month - 1]} {shown.year}".translate(PERSIAN_DIGITS)
    assert popup.locator(".datepicker-title").inner_text() == title
    assert popup.locator("th").first.inner_text() == "ش"  # the week starts on Saturday
    box, width = popup.bounding_box(), page.evaluate("document.documentElement.clientWidth")
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)
    screenshot(page, "i18n-fa-390-datepicker")
    popup.locator("[data-day]").first.click()  # the 1st of that Jalali month
    first = shown.replace(day=1)
    assert page.input_value("input[name=from]") == first.strftime("%Y-%m-%d").translate(PERSIAN_DIGITS)
    assert page.locator(".datepicker-popup:not([hidden])").count() == 0
    # By keyboard: open "to" (on today), one day back is to the right in a right-to-left grid, Enter picks.
    page.focus("input[name=to] ~ .datepicker-toggle")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    last = jdatetime.date.fromgregorian(date=today - dt.timedelta(days=1))
    assert page.input_value("input[name=to]") == last.strftime("%Y-%m-%d").translate(PERSIAN_DIGITS)
    page.focus("input[name=to] ~ .datepicker-toggle")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # closes, and the focus is back on the button that opened it
    assert page.locator(".datepicker-popup:not([hidden])").count() == 0
    assert page.evaluate("document.activeElement.matches('input[name=to] ~ .datepicker-toggle')")
    page.click("main form .form-actions button[type=submit]")
    page.wait_for_selector(".chart canvas, .empty")
    header = page.inner_text(".page-header p")
    assert header.startswith(first.strftime("%Y/%m/%d").translate(PERSIAN_DIGITS)), header
    assert last.strftime("%Y/%m/%d").translate(PERSIAN_DIGITS) in header, header
    assert problems == []
    context.close()


def test_the_demo_store_in_persian_and_english(browser, live):
    server, _site, _password = live
    pages = ["/store/", "/store/category/lighting", "/store/search?q=LANTERN", "/store/cart", "/store/login"]
    for language, accept in (("fa", "fa-IR"), ("en", "en-US")):
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale=accept)
        page = context.new_page()
        english = catalogues.english_ui_strings("storefront")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for path in pages:
                assert page.goto(server.url + path).status == 200
                fit = page.evaluate(OVERFLOW)
                assert fit["scroll"] <= width and fit["found"] == [], (language, width, path, fit)
                assert page.locator("html").get_attribute("dir") == ("rtl" if language == "fa" else "ltr")
                if language == "fa":
                    text = page.inner_text("body")
                    assert [s for s in english if s in text] == [], path
                slug = re.sub(r"\W+", "-", path).strip("-")
                screenshot(page, f"i18n-store-{language}-{width}-{slug}")
        if language == "fa":
            page.goto(server.url + "/store/")
            assert "افزودن به سبد" in page.inner_text("main")
            assert re.search("[۰-۹]", page.inner_text(".price >> nth=0"))
        context.close()
