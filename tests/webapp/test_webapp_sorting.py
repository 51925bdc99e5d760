"""Sortable columns on the lists held in memory: users, tokens, an audience."""

import datetime as dt

from tests.support.factories import order, tracked
from tests.support.webapp_helpers import make_app, make_user, post, signed_in
from warehouse.queries import events
from webapp.pages import Sorting, sort_rows


def body(response) -> str:
    """The page from its table header on (the top bar names the signed-in user too)."""
    page = response.get_data(as_text=True)
    return page[page.index("<thead>") :]


def test_sort_rows_puts_unknown_values_last_both_ways():
    rows = [{"v": 2}, {"v": None}, {"v": 5}]
    keys = {"v": lambda r: r["v"]}
    assert [r["v"] for r in sort_rows(rows, Sorting("v", True), keys)] == [5, 2, None]
    assert [r["v"] for r in sort_rows(rows, Sorting("v", False), keys)] == [2, 5, None]


def test_users_tokens_and_audiences_sort_by_their_headers(warehouse, site):
    sid = site["site_id"]
    app = make_app(warehouse)
    admin = signed_in(app, *make_user(warehouse, "admin", [sid]))
    make_user(warehouse, "analyst", [sid])
    by_email = body(admin.get("/users?sort=email&dir=desc"))
    assert by_email.index("analyst-") < by_email.index("admin-") and 'aria-sort="descending"' in by_email
    by_role = body(admin.get("/users?sort=role&dir=asc"))
    assert by_role.index("admin-") < by_role.index("analyst-")
    assert 'aria-sort="ascending"' in body(admin.get("/sites?sort=created&dir=asc"))
    for label in ("b nightly", "a weekly"):
        post(admin, "/tokens", {"label": label}, token_from="/tokens")
    tokens = admin.get("/tokens?sort=label&dir=asc").get_data(as_text=True)
    assert tokens.index("a weekly") < tokens.index("b nightly") and "sort=label&amp;dir=desc" in tokens

    t0 = dt.datetime(2026, 3, 1, 9)
    events.insert_events(
        warehouse,
        [
            order(sid, t0 - dt.timedelta(days=9), "buyer", "o1", 8.0, items=("mug", "tea")),
            tracked(sid, t0, "Product Viewed", "fresh", product_id="mug"),
            tracked(sid, t0 - dt.timedelta(days=5), "Product Added", "keen", product_id="mug"),
            tracked(sid, t0 - dt.timedelta(days=5), "Product Added", "keen", product_id="tea"),
        ],
    )
    url = f"/s/{sid}/audience?product=tea"
    newest = admin.get(url + "&sort=last&dir=desc").get_data(as_text=True)
    oldest = admin.get(url + "&sort=last&dir=asc").get_data(as_text=True)
    assert newest.index("fresh") < newest.index("keen") and oldest.index("keen") < oldest.index("fresh")
