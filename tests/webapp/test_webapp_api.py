"""The admin API: bearer tokens only, scoped to the user's sites, and an OpenAPI document that matches the routes."""

from __future__ import annotations

import datetime as dt

from tests.conftest import new_site
from tests.support import factories
from tests.support.webapp_helpers import make_app, make_user, signed_in
from warehouse.queries import api_tokens, events, users
from webapp.api.openapi import openapi_path
from webapp.tokens import hash_token, issue


def _token(warehouse, role: str, site_ids: list[str] | None) -> tuple[dict, str]:
    email, _password = make_user(warehouse, role, site_ids)
    user = users.find_by_email(warehouse, email)
    _row, token = issue(warehouse, user["user_id"], "test")
    return user, token


def _api_rules(app) -> list:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/") and r.rule != "/api/openapi.json"]


def _call(client, rule, site_id: str, token: str | None, raw_header: str | None = None):
    url = rule.build({"site_id": site_id} if "site_id" in rule.arguments else {})[1]
    headers = {"Authorization": raw_header or f"Bearer {token}"} if (token or raw_header) else {}
    method = "POST" if "POST" in rule.methods else "GET"
    return client.open(url, method=method, headers=headers, json={"name": "Via API"} if method == "POST" else None)


def test_site_keys_sessions_and_revoked_tokens_are_refused_on_every_api_route(warehouse, site):
    app = make_app(warehouse)
    client = app.test_client()
    user, token = _token(warehouse, "admin", [])
    rules = _api_rules(app)
    assert len(rules) >= 7
    refused = [site["write_key"], site["public_key"], "bt_" + site["write_key"], "", "bt_made-up"]
    for rule in rules:
        assert _call(client, rule, site["site_id"], None).status_code == 401, rule.rule
        for key in refused:
            for header in (f"Bearer {key}", key, f"Basic {key}"):
                response = _call(client, rule, site["site_id"], None, raw_header=header)
                assert response.status_code == 401, (rule.rule, header)
                assert "Bearer" in response.get_json()["message"]
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
    browser = signed_in(app, *make_user(warehouse, "admin"))  # a session cookie is not a token either
    assert all(_call(browser, rule, site["site_id"], None).status_code == 401 for rule in rules)
    assert _call(client, rules[0], site["site_id"], token).status_code in (200, 201)
    (row,) = api_tokens.list_tokens(warehouse, user["user_id"])
    assert row["token_hash"] == hash_token(token) and token not in str(row)
    assert api_tokens.revoke_token(warehouse, user["user_id"], row["token_id"])
    assert all(_call(client, rule, site["site_id"], token).status_code == 401 for rule in rules)


def test_a_token_reads_only_its_users_sites_and_analysts_only_read(warehouse):
    mine, theirs = new_site(warehouse), new_site(warehouse)
    app = make_app(warehouse)
    client = app.test_client()
    _user, token = _token(warehouse, "analyst", [mine["site_id"]])
    rules = _api_rules(app)
    for rule in [r for r in rules if "site_id" in r.arguments]:
        assert _call(client, rule, theirs["site_id"], token).status_code == 403, rule.rule
        assert _call(client, rule, "s_000000000000", token).status_code == 404, rule.rule
        assert _call(client, rule, mine["site_id"], token).status_code == 200, rule.rule
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/sites", headers=auth).get_json()
    assert [s["site_id"] for s in listed] == [mine["site_id"]]
    assert client.get("/api/v1/users", headers=auth).status_code == 403
    assert client.post("/api/v1/sites", headers=auth, json={"name": "Nope"}).status_code == 403
    _admin, admin_token = _token(warehouse, "admin", [])
    created = client.post(
        "/api/v1/sites",
        headers={"Authorization": f"Bearer {admin_token}"},
        json={"name": "Made by API", "domains": ["Api.Example"]},
    )
    assert created.status_code == 201 and created.get_json()["domains"] == ["api.example"]
    bad = client.post("/api/v1/sites", headers={"Authorization": f"Bearer {admin_token}"}, json={"name": ""})
    assert bad.status_code == 400 and "name" in bad.get_json()["message"]


def test_figures_series_and_events_match_the_warehouse(warehouse):
    site, other = new_site(warehouse), new_site(warehouse)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    rows = []
    for n, (target, event) in enumerate(
        [(site, "Product Viewed"), (site, "Order Completed"), (site, "Product Viewed"), (other, "Order Completed")]
    ):
        rows.append(
            factories.row(
                target["site_id"],
                now,
                message_id=f"m{n}",
                event=event,
                anonymous_id=f"a{n}",
                order_id=f"o{n}" if "Order" in event else "",
                revenue=10.0 * n if "Order" in event else 0.0,
                currency="EUR",
                properties='{"n": %d}' % n,
                timestamp=now - dt.timedelta(days=n),
            )
        )
    events.insert_events(warehouse, rows)
    client = make_app(warehouse).test_client()
    auth = {"Authorization": f"Bearer {_token(warehouse, 'analyst', [site['site_id']])[1]}"}
    base = f"/api/v1/sites/{site['site_id']}"
    summary = client.get(base + "/summary?days=7", headers=auth).get_json()
    assert summary == {
        "site_id": site["site_id"],
        "days": 7,
        "events": 3,
        "visitors": 3,
        "orders": 1,
        "revenue": 10.0,
        "currency": "EUR",
    }
    series = client.get(base + "/daily?days=3", headers=auth).get_json()["series"]
    assert [d["events"] for d in series] == [1, 1, 1] and series[-1]["day"] == now.date().isoformat()
    listed = client.get(base + "/events?per_page=2&event=Product+Viewed", headers=auth).get_json()
    assert (
        listed["total"] == 2
        and listed["pages"] == 1
        and [e["properties"] for e in listed["items"]] == [{"n": 0}, {"n": 2}]
    )
    assert client.get(base + "/events?page=2&per_page=2", headers=auth).get_json()["items"][0]["message_id"] == "m2"
    assert client.get(base + "/events?per_page=0", headers=auth).status_code == 400
    assert client.get(base + "/summary?days=x", headers=auth).get_json()["message"] == "days must be an integer"


def test_openapi_document_describes_exactly_the_api_routes(warehouse):
    app = make_app(warehouse)
    doc = app.test_client().get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = {
        (openapi_path(r.rule.removeprefix("/api")), m)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/")
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert "200" in op["responses"] or "201" in op["responses"], path
            assert all(p["name"] in path for p in op.get("parameters", []) if p["in"] == "path")
