"""The admin in Persian: the language chosen by browser, switch and account; Jalali sites; folded search."""

from __future__ import annotations

import datetime as dt
import re

import jdatetime
import pandas as pd

from core import calendars
from tests.support.webapp_helpers import make_app, make_user, post, signed_in
from warehouse.queries import display
from warehouse.queries import recommendations as rec_store

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def test_the_browsers_language_decides_before_signing_in(warehouse):
    client = make_app(warehouse).test_client()
    persian = client.get("/login", headers={"Accept-Language": "fa-IR,fa;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="fa" dir="rtl"' in persian and "ورود" in persian and "Sign in" not in persian
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr"' in english and "Sign in" in english
    german = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en"' in german  # no catalogue: the source language


def test_the_switch_keeps_the_choice_with_the_account(warehouse, site):
    app = make_app(warehouse)
    email, password = make_user(warehouse, "admin", [site["site_id"]])
    client = signed_in(app, email, password)
    answer = post(client, "/locale", {"locale": "fa", "next": "/sites"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/sites"
    page = client.get("/sites").get_data(as_text=True)
    assert 'dir="rtl"' in page and "سایت‌ها" in page
    other = signed_in(app, email, password)  # another browser: the account's language
    assert 'lang="fa"' in other.get("/sites").get_data(as_text=True)
    assert post(client, "/locale", {"locale": "xx", "next": "//evil.example"}).headers["Location"] == "/"


def test_a_jalali_site_shows_jalali_dates_in_persian_digits(warehouse, site):
    sid = site["site_id"]
    display.save_site_display(
        warehouse, sid, {"calendar": "jalali", "timezone": "Asia/Tehran", "currency": "IRR", "money_unit": "toman"}
    )
    app = make_app(warehouse, LOCALE="fa")
    client = signed_in(app, *make_user(warehouse, "analyst", [sid]))
    page = client.get(f"/s/{sid}/kpis?range=this_month").get_data(as_text=True)
    today = calendars.today("Asia/Tehran")
    first = jdatetime.date.fromgregorian(date=today).replace(day=1)
    shown = first.strftime("%Y/%m/%d").translate(PERSIAN)
    assert shown in page  # the range starts on the first of the Persian month
    assert f'name="from" value="{first.strftime("%Y-%m-%d").translate(PERSIAN)}"' in page
    assert 'aria-current="true" href="/s/' in page and "این ماه" in page


def test_this_month_on_a_jalali_site_is_the_persian_month():
    from webapp.insights import kpi_range

    start, end, preset = kpi_range({"range": "this_month"}, "jalali", dt.date(2026, 4, 5))
    assert (start, end, preset) == (dt.date(2026, 3, 21), dt.date(2026, 4, 5), "this_month")
    start, end, _ = kpi_range({"range": "last_month"}, "jalali", dt.date(2026, 4, 5))
    assert (start, end) == (dt.date(2026, 2, 20), dt.date(2026, 3, 20))  # Esfand 1404
    start, end, _ = kpi_range({"from": "۱۴۰۵/۰۱/۰۱", "to": "1405-01-10"}, "jalali", dt.date(2026, 4, 5))
    assert (start, end) == (dt.date(2026, 3, 21), dt.date(2026, 3, 30))
    start, end, _ = kpi_range({"range": "this_month"}, "gregorian", dt.date(2026, 4, 5))
    assert start == dt.date(2026, 4, 1)


def test_product_search_finds_persian_names_typed_on_an_arabic_keyboard(warehouse, site):
    sid = site["site_id"]
    rows = [("bag-1", "کیف چرمی"), ("bag-2", "کیف پول"), ("shoe-1", "کفش")]
    rec_store.write_products(
        warehouse,
        pd.DataFrame(
            [
                {"site_id": sid, "product_id": p, "name": n, "category": "", "price": 1.0, "out_of_stock": 0}
                for p, n in rows
            ]
        ),
    )
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    page = client.get(f"/s/{sid}/audience", query_string={"product": "كيف"}).get_data(as_text=True)  # Arabic kaf, yeh
    assert "کیف چرمی" in page and "کیف پول" in page and "کفش" not in page
    one = client.get(f"/s/{sid}/audience", query_string={"product": "كيف چرمي"}).get_data(as_text=True)
    assert 'value="bag-1"' in one  # a single match opens that product's audience


def test_the_display_settings_are_saved_and_checked(warehouse, site):
    sid = site["site_id"]
    client = signed_in(make_app(warehouse), *make_user(warehouse, "admin", [sid]))
    form = {"calendar": "jalali", "timezone": "Asia/Tehran", "currency": "irr", "money_unit": "toman"}
    post(client, f"/s/{sid}/settings/display", form, token_from=f"/s/{sid}/settings")
    assert display.site_display(warehouse, sid) == {**form, "currency": "IRR"}
    post(client, f"/s/{sid}/settings/display", {**form, "timezone": "Mars/Olympus"}, token_from=f"/s/{sid}/settings")
    assert display.site_display(warehouse, sid)["timezone"] == "Asia/Tehran"
    page = client.get(f"/s/{sid}/settings").get_data(as_text=True)
    assert re.search(r"Mars/Olympus.{0,20} is not a time zone name", page)


def test_the_segments_jobs_own_segments_have_a_name_in_every_language():
    from mining.segments import RULE_NAMES
    from webapp.i18n import SEGMENT_NAMES

    assert set(SEGMENT_NAMES) == set(RULE_NAMES)
