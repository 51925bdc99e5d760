"""Identity verification in a real browser: the demo store's server signs the customer id, the tracker
passes the userHash with every message of the signed-in customer, and the collector trusts only that."""

from __future__ import annotations

import json

import pytest

from tests.tracker.test_tracker_browser import READY

pytestmark = pytest.mark.process


def rows_of(shop, anon: str, until, timeout: float = 20.0) -> list[dict]:
    query = (
        "SELECT type, event, user_id, flags, context FROM events "
        f"WHERE anonymous_id = '{anon}' ORDER BY timestamp, timestamp_ms"
    )
    return shop.wait_for(query, until, timeout=timeout)


def test_a_signed_in_customer_is_verified_and_a_forged_identify_is_only_claimed(shop, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(shop.url + "/store/login")
        anon = page.evaluate(READY)
        page.fill("#customer", "12583")
        page.click("#sign-in")
        page.wait_for_url("**/store/")
        page.evaluate(READY)
        assert json.loads(page.evaluate("localStorage.bsr_h"))  # kept for the customer's next pages
        page.goto(shop.url + "/store/product/23084")
        page.evaluate(READY)
        rows = rows_of(shop, anon, lambda rows: any(r["event"] == "Product Viewed" for r in rows))
        [identify] = [r for r in rows if r["type"] == "identify"]
        [viewed] = [r for r in rows if r["event"] == "Product Viewed"]
        assert identify["user_id"] == viewed["user_id"] == "cust-12583"
        assert identify["flags"] == ["claimed_traits"]  # the id is verified; the email is the browser's word
        assert viewed["flags"] == []
        assert all("userHash" not in r["context"] for r in rows)
        # Sign out: the id and its hash are forgotten.
        page.click("form[action$='/logout'] button")
        page.wait_for_url("**/store/")
        assert page.evaluate("localStorage.bsr_h === undefined && localStorage.bsr_u === undefined")
        # Anyone can call identify from the console with someone else's id: it is only a claim.
        forger = page.evaluate(READY)
        page.evaluate("basirat.identify('cust-12347', {email: 'customer12347@example.com'})")
        rows = rows_of(shop, forger, lambda rows: any(r["type"] == "identify" for r in rows))
        [forged] = [r for r in rows if r["type"] == "identify"]
        assert forged["user_id"] == "cust-12347" and forged["flags"] == ["claimed", "claimed_traits"]
    finally:
        context.close()
