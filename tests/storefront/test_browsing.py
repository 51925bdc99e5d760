"""The demo's browsing model: fitted parts follow the invoices, stated parts hold, the draw is stable."""

import pandas as pd
import pytest

from storefront.browsing import BrowsingModel, browsing_visits, cart_rate, product_model
from storefront.retail import read_retail


def lines(*baskets) -> pd.DataFrame:
    rows = []
    for n, (customer, day, codes) in enumerate(baskets):
        for code in codes:
            rows.append((str(500 + n), code, f"{code} lamp shade", 1, pd.Timestamp(day), 2.0, customer, "FR"))
    columns = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    return pd.DataFrame(rows, columns=[*columns, "Country"])


def test_products_are_weighted_by_invoices_and_linked_by_baskets():
    share, neighbours = product_model(lines((1, "2026-01-01", ["a", "b"]), (2, "2026-01-02", ["a", "c"])))
    assert share.to_dict() == {"a": 0.5, "b": 0.25, "c": 0.25}
    assert neighbours["a"] == [("b", 1), ("c", 1)] and neighbours["b"] == [("a", 1)]


def test_cart_rate_leaves_the_stated_share_of_carts_behind():
    # 30 orders at 70% abandonment: 70 carts left behind, over 100 browsing visits
    assert cart_rate(BrowsingModel(cart_abandonment=0.7), 30, 100) == pytest.approx(0.7)
    assert cart_rate(BrowsingModel(cart_abandonment=0.7), 30, 10) == 1.0
    assert cart_rate(BrowsingModel(), 30, 0) == 0.0


@pytest.fixture(scope="module")
def demo():
    invoices = read_retail()
    return invoices, browsing_visits(invoices)


def test_the_draw_is_the_same_every_time(demo):
    invoices, visits = demo
    assert visits.equals(browsing_visits(invoices))
    assert not visits.equals(browsing_visits(invoices, BrowsingModel(seed=1)))


def test_demo_browsing_leaves_seven_carts_in_ten_and_looks_at_bought_products(demo):
    invoices, visits = demo
    orders = invoices[~invoices["InvoiceNo"].str.startswith("C")]["InvoiceNo"].nunique()
    carts_left = visits.loc[visits["action"] == "add", "visit"].nunique()
    assert carts_left / (carts_left + orders) == pytest.approx(0.70, abs=0.03)
    assert set(visits["product_id"].dropna()) <= set(invoices["StockCode"])
    checkouts = visits.loc[visits["action"] == "checkout", "visit"]
    assert checkouts.isin(visits.loc[visits["action"] == "add", "visit"]).all()
    top = invoices.groupby("StockCode")["InvoiceNo"].nunique().idxmax()
    firsts = visits[visits["action"] == "view"].groupby("visit")["product_id"].first().value_counts()
    assert firsts.index[0] == top


def test_customers_browse_on_their_own_devices_around_their_orders(demo):
    invoices, visits = demo
    known = visits.dropna(subset=["customer"])
    assert 0 < len(known) < len(visits)
    for customer, own in known.groupby("customer"):
        bought = invoices[invoices["CustomerID"] == customer]["InvoiceDate"]
        assert own["at"].min() >= bought.min().normalize() - pd.Timedelta(days=30)
        assert own["at"].max() <= bought.max().normalize() + pd.Timedelta(days=1)
        assert set(own["anonymous_id"]) <= {f"anon-{int(customer)}-0", f"anon-{int(customer)}-1"}


def test_searches_use_words_of_the_first_product_seen(demo):
    invoices, visits = demo
    names = invoices.drop_duplicates("StockCode").set_index("StockCode")["Description"].str.lower()
    searched = visits[visits["action"] == "search"].set_index("visit")["query"]
    first = visits[visits["action"] == "view"].groupby("visit")["product_id"].first()
    assert len(searched) > 100
    for visit, query in searched.items():
        assert query in names[first[visit]].split()
