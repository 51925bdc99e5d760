"""Admin pages: roles, site isolation on every route, sites, users and the dashboard."""

from __future__ import annotations

import datetime as dt
import re

from tests.conftest import new_site
from tests.support.factories import row
from tests.support.webapp_helpers import make_app, make_user, post, sign_in, signed_in
from warehouse.queries import events, sites, users


def _url(rule, site_id: str) -> str:
    """A URL for ``rule`` naming ``site_id``; other parts get plausible values."""
    values = {"which": "write_key", "user_id": "u_000000000000"}
    args = {name: site_id if name == "site_id" else values.get(name, "x") for name in rule.arguments}
    return rule.build(args)[1]


def test_a_user_of_one_site_cannot_open_another_sites_routes(warehouse):
    """Walks every route with a site id, so routes added later are covered too."""
    mine, theirs = new_site(warehouse), new_site(warehouse)
    app = make_app(warehouse)
    for role in ("analyst", "admin"):
        email, password = make_user(warehouse, role, [mine["site_id"]])
        client = signed_in(app, email, password)
        # API routes authenticate by token, not session: tests/webapp/test_webapp_api.py walks them the same way.
        site_rules = [
            r for r in app.url_map.iter_rules() if "site_id" in r.arguments and not r.rule.startswith("/api/")
        ]
        assert len(site_rules) >= 4
        for rule in site_rules:
            if "GET" in rule.methods:
                assert client.get(_url(rule, theirs["site_id"])).status_code == 403, (role, rule.rule)
                assert client.get(_url(rule, "s_doesnotexist")).status_code == 404, (role, rule.rule)
            if "POST" in rule.methods:
                response = post(client, _url(rule, theirs["site_id"]), {"confirm": theirs["name"], "domains": "x.io"})
                assert response.status_code == 403, (role, rule.rule)
        body = client.get("/sites").get_data(as_text=True)
        assert mine["site_id"] in body and theirs["site_id"] not in body
        assert theirs["write_key"] not in client.get(f"/s/{mine['site_id']}/settings").get_data(as_text=True)
    after = sites.get_site(warehouse, theirs["site_id"])
    assert after["write_key"] == theirs["write_key"] and list(after["domains"]) == []


def test_analyst_cannot_open_admin_pages(warehouse, site):
    app = make_app(warehouse)
    email, password = make_user(warehouse, "analyst", [site["site_id"]])
    client = signed_in(app, email, password)
    assert client.get(f"/s/{site['site_id']}/").status_code == 200
    assert client.get(f"/s/{site['site_id']}/settings").status_code == 200
    for url in ["/users", "/users/new", "/sites/new", f"/s/{site['site_id']}/keys/write_key/rotate"]:
        assert client.get(url).status_code == 403, url
    assert post(client, "/users/new", {"email": "x@example.com", "role": "admin"}).status_code == 403
    assert users.find_by_email(warehouse, "x@example.com") is None


def test_admin_creates_a_site_and_sees_its_snippet(warehouse):
    app = make_app(warehouse, COLLECTOR_URL="https://t.shop.example")
    client = signed_in(app, *make_user(warehouse, "admin"))
    bad = post(client, "/sites/new", {"name": "Bad", "domains": "not a<domain>"})
    assert bad.status_code == 400 and "is not a domain name" in bad.get_data(as_text=True)
    name = "Shop " + dt.datetime.now().isoformat()
    response = post(client, "/sites/new", {"name": name, "domains": "Shop.example.com, www.shop.example.com"})
    assert response.status_code == 302
    site_id = response.headers["Location"].split("/")[2]
    site = sites.get_site(warehouse, site_id)
    assert site["name"] == name and list(site["domains"]) == ["shop.example.com", "www.shop.example.com"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    snippet = (
        f"&lt;script async src=&#34;https://t.shop.example/t.js&#34; data-write-key=&#34;{site['write_key']}&#34; "
        f"data-host=&#34;https://t.shop.example&#34;&gt;&lt;/script&gt;"
    )
    assert snippet in page and site["public_key"] in page


def test_key_rotation_needs_the_sites_name(warehouse, site):
    app = make_app(warehouse)
    client = signed_in(app, *make_user(warehouse, "admin"))
    url = f"/s/{site['site_id']}/keys/write_key/rotate"
    assert "Type the site" in client.get(url).get_data(as_text=True)
    assert post(client, url, {"confirm": "wrong"}).status_code == 400
    assert sites.get_site(warehouse, site["site_id"])["write_key"] == site["write_key"]
    assert post(client, url, {"confirm": site["name"]}).status_code == 302
    rotated = sites.get_site(warehouse, site["site_id"])
    assert rotated["write_key"] != site["write_key"] and rotated["write_key"].startswith("wk_")
    assert rotated["public_key"] == site["public_key"]
    assert client.get(f"/s/{site['site_id']}/keys/other/rotate").status_code == 404


def test_admin_manages_users(warehouse, site):
    app = make_app(warehouse)
    admin_email, password = make_user(warehouse, "admin")
    client = signed_in(app, admin_email, password)
    email = f"new-{site['site_id']}@example.com"
    created = post(client, "/users/new", {"email": email, "role": "analyst", "site_ids": [site["site_id"], "s_bogus"]})
    generated = re.search(r'id="password">([^<]+)<', created.get_data(as_text=True)).group(1)
    user = users.find_by_email(warehouse, email)
    assert user["role"] == "analyst" and list(user["site_ids"]) == [site["site_id"]]
    assert post(client, "/users/new", {"email": email, "role": "analyst"}).status_code == 400
    pages = range(1, 2 + users.count_users(warehouse) // 50)  # other tests' users may come first by email
    assert any(email in client.get(f"/users?page={n}").get_data(as_text=True) for n in pages)
    analyst = signed_in(app, email, generated)
    assert analyst.get(f"/s/{site['site_id']}/").status_code == 200
    form = {"role": "analyst", "active": "0", "site_ids": [site["site_id"]]}
    assert post(client, f"/users/{user['user_id']}", form, token_from="/users").status_code == 302
    assert analyst.get(f"/s/{site['site_id']}/").status_code == 302
    assert sign_in(app.test_client(), email, generated).status_code == 401
    me = users.find_by_email(warehouse, admin_email)
    post(client, f"/users/{me['user_id']}", {"role": "analyst", "active": "1"}, token_from="/users")
    assert users.get_user(warehouse, me["user_id"])["role"] == "admin"


def test_dashboard_shows_the_sites_own_figures(warehouse):
    mine, other = new_site(warehouse), new_site(warehouse)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    rows = []
    cases = [
        (mine, "Product Viewed", "", 0.0),
        (mine, "Order Completed", "o1", 12.5),
        (mine, "Order Completed", "o2", 30.0),
        (other, "Order Completed", "o9", 999.0),
    ]
    for n, (site, event, order, revenue) in enumerate(cases):
        rows.append(
            row(
                site["site_id"],
                now,
                message_id=f"m{n}",
                event=event,
                anonymous_id=f"a{n % 2}",
                order_id=order,
                revenue=revenue,
                currency="EUR",
                timestamp=now - dt.timedelta(days=n),
            )
        )
    rows.append({**rows[0], "message_id": "old", "timestamp": now - dt.timedelta(days=40)})
    events.insert_events(warehouse, rows)
    app = make_app(warehouse)
    client = signed_in(app, *make_user(warehouse, "analyst", [mine["site_id"]]))
    page = client.get(f"/s/{mine['site_id']}/").get_data(as_text=True)
    figures = re.findall(r'figure-value">([^<]+)<', page)
    assert [f.strip() for f in figures] == ["3", "2", "2", "42.50"]
    assert '<span class="figure-unit">EUR</span>' in page
    assert 'type="application/json" id="daily-events"' in page


def test_empty_dashboard_says_what_to_do(warehouse, site):
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [site["site_id"]]))
    page = client.get(f"/s/{site['site_id']}/").get_data(as_text=True)
    assert "No events in the last 30 days" in page and "tracking snippet" in page


def test_home_goes_to_a_visible_sites_dashboard(warehouse, site):
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [site["site_id"]]))
    assert client.get("/").headers["Location"] == f"/s/{site['site_id']}/"
    lonely = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", []))
    assert lonely.get("/").headers["Location"] == "/sites"
    assert "Ask an admin" in lonely.get("/sites").get_data(as_text=True)


def test_pagination_macro_links_pages_and_keeps_url_arguments(warehouse, site):
    from flask import render_template_string

    from webapp.pages import paginate

    app = make_app(warehouse)
    template = '{% import "macros.html" as ui %}{{ ui.pagination(page, "dashboard.index", site_id=sid) }}'
    with app.test_request_context("/?page=2"):
        html = render_template_string(template, page=paginate(120, per_page=50), sid=site["site_id"])
    assert "51–100 of 120" in html and "Page 2 of 3" in html
    assert f'href="/s/{site["site_id"]}/?page=1"' in html and f'href="/s/{site["site_id"]}/?page=3"' in html
    with app.test_request_context("/?page=99"):
        assert paginate(120, per_page=50).page == 3
    with app.test_request_context("/?page=x"):
        assert paginate(0).page == 1
