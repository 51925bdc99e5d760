"""Users and tokens per role: a site-limited admin manages only accounts within its own sites.

An admin without a site list reaches every site, so a limited admin that could
edit, create or reset such an account (its own included) could take over every
tenant. Every user and token route, HTML and ``/api/v1``, is walked as a global
admin, a site-limited admin and an analyst; the route list is read from the app
so that a new user or token route fails here until it is covered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.conftest import new_site
from tests.support.webapp_helpers import PASSWORD, make_app, make_user, post, sign_in, signed_in
from warehouse.queries import api_tokens, users
from webapp.tokens import issue

COVERED = {
    ("/users", "GET"),
    ("/users/new", "GET"),
    ("/users/new", "POST"),
    ("/users/<user_id>", "GET"),
    ("/users/<user_id>", "POST"),
    ("/users/<user_id>/password", "POST"),
    ("/tokens", "GET"),
    ("/tokens", "POST"),
    ("/tokens/<token_id>/revoke", "POST"),
    ("/api/v1/users", "GET"),
    ("/api/v1/me", "GET"),
}
_PASSWORD_SHOWN = re.compile(r'id="password">([^<]+)<')


@dataclass
class Tenants:
    """Two fresh sites A and B, and accounts on each side of a site-limited admin's reach."""

    app: object
    a: dict
    b: dict
    accounts: dict[str, dict]

    def id(self, name: str) -> str:
        return self.accounts[name]["user_id"]

    def email(self, name: str) -> str:
        return self.accounts[name]["email"]

    def client(self, name: str):
        return signed_in(self.app, self.email(name), PASSWORD)

    def token(self, name: str) -> dict:
        return {"Authorization": f"Bearer {issue(self.app.extensions['basirat.warehouse'], self.id(name), 't')[1]}"}


@pytest.fixture
def tenants(warehouse) -> Tenants:
    a, b = new_site(warehouse), new_site(warehouse)
    shapes = {
        "global": ("admin", []),
        "limited": ("admin", [a["site_id"]]),  # the one under test
        "peer": ("admin", [a["site_id"]]),  # another admin of A only: within reach
        "analyst": ("analyst", [a["site_id"]]),
        "analyst_b": ("analyst", [b["site_id"]]),
        "analyst_ab": ("analyst", [a["site_id"], b["site_id"]]),
        "analyst_none": ("analyst", []),
        "admin_b": ("admin", [b["site_id"]]),
    }
    accounts = {}
    for name, (role, site_ids) in shapes.items():
        email, _ = make_user(warehouse, role, site_ids)
        accounts[name] = users.find_by_email(warehouse, email)
    return Tenants(make_app(warehouse), a, b, accounts)


def _stored(warehouse, user_id: str) -> tuple:
    user = users.get_user(warehouse, user_id)
    return user["role"], sorted(user["site_ids"]), user["active"], user["password_hash"]


def _refused(response) -> None:
    """A clear 403: the error page (or JSON) and never a trace or a generated password."""
    body = response.get_data(as_text=True)
    assert response.status_code == 403, body[:300]
    assert "Traceback" not in body and not _PASSWORD_SHOWN.search(body)
    if response.is_json:
        assert response.get_json()["error"] == "Not allowed"
    else:
        assert "Not allowed" in body


def _all_listed(client, headers: dict) -> list[dict]:
    """Every user the API lists for this token, across its pages."""
    found, page = [], 1
    while True:
        answer = client.get(f"/api/v1/users?per_page=200&page={page}", headers=headers).get_json()
        found += answer["items"]
        if page >= answer["pages"]:
            return found
        page += 1


def test_every_user_and_token_route_is_covered_here(warehouse):
    app = make_app(warehouse)
    routed = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule == "/api/v1/me" or "/users" in rule.rule or "/tokens" in rule.rule
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routed == COVERED


def test_limited_admin_cannot_make_itself_global_or_widen_its_sites(warehouse, tenants):
    client = tenants.client("limited")
    me, a, b = tenants.id("limited"), tenants.a["site_id"], tenants.b["site_id"]
    before = _stored(warehouse, me)
    for form in (
        {"role": "admin", "active": "1"},  # no site ticked: every site
        {"role": "admin", "active": "1", "site_ids": [a, b]},
        {"role": "admin", "active": "1", "site_ids": [b]},
    ):
        _refused(post(client, f"/users/{me}", form))
        assert _stored(warehouse, me) == before, form
    assert client.get(f"/s/{b}/").status_code == 403
    kept = post(client, f"/users/{me}", {"role": "admin", "active": "1", "site_ids": [a]})
    assert kept.status_code == 302 and _stored(warehouse, me) == before


def test_limited_admin_cannot_widen_others_or_make_them_global(warehouse, tenants):
    client = tenants.client("limited")
    a, b = tenants.a["site_id"], tenants.b["site_id"]
    for name in ("analyst", "peer"):
        target, before = tenants.id(name), _stored(warehouse, tenants.id(name))
        for form in (
            {"role": "admin", "active": "1"},
            {"role": "analyst", "active": "1"},  # no sites: out of the limited admin's reach for good
            {"role": "analyst", "active": "1", "site_ids": [a, b]},
            {"role": "admin", "active": "1", "site_ids": [b]},
        ):
            _refused(post(client, f"/users/{target}", form))
            assert _stored(warehouse, target) == before, (name, form)


def test_limited_admin_cannot_touch_accounts_beyond_its_sites(warehouse, tenants):
    client = tenants.client("limited")
    a = tenants.a["site_id"]
    for name in ("global", "analyst_b", "analyst_ab", "analyst_none", "admin_b"):
        target, before = tenants.id(name), _stored(warehouse, tenants.id(name))
        _refused(client.get(f"/users/{target}"))
        _refused(post(client, f"/users/{target}", {"role": "analyst", "active": "0", "site_ids": [a]}))
        _refused(post(client, f"/users/{target}/password"))
        assert _stored(warehouse, target) == before, name
    assert sign_in(tenants.app.test_client(), tenants.email("global"), PASSWORD).status_code == 302
    assert client.get("/users/u_000000000000").status_code == 404


def test_limited_admin_cannot_create_global_or_other_site_accounts(warehouse, tenants):
    client = tenants.client("limited")
    a, b = tenants.a["site_id"], tenants.b["site_id"]
    for n, form in enumerate(
        [
            {"role": "admin"},
            {"role": "analyst"},
            {"role": "admin", "site_ids": [b]},
            {"role": "analyst", "site_ids": [a, b]},
        ]
    ):
        email = f"escalate-{n}-{a}@example.com"
        _refused(post(client, "/users/new", {**form, "email": email}))
        assert users.find_by_email(warehouse, email) is None, form


def test_limited_admin_sees_only_users_of_its_sites(warehouse, tenants):
    client = tenants.client("limited")
    within = {tenants.email(n) for n in ("limited", "peer", "analyst")}
    beyond = {tenants.email(n) for n in ("global", "analyst_b", "analyst_ab", "analyst_none", "admin_b")}
    page = client.get("/users").get_data(as_text=True)
    assert all(e in page for e in within) and not any(e in page for e in beyond)
    assert tenants.b["name"] not in page and tenants.b["site_id"] not in page
    form = client.get("/users/new").get_data(as_text=True)
    assert tenants.a["site_id"] in form and tenants.b["site_id"] not in form
    assert "every site" not in form
    listed = client.get("/api/v1/users?per_page=200", headers=tenants.token("limited")).get_json()
    assert {u["email"] for u in listed["items"]} == within and listed["total"] == 3
    assert all(u["site_ids"] == [tenants.a["site_id"]] for u in listed["items"])


def test_limited_admin_still_manages_users_within_its_sites(warehouse, tenants):
    client = tenants.client("limited")
    a = tenants.a["site_id"]
    created = post(client, "/users/new", {"email": f"new-{a}@example.com", "role": "analyst", "site_ids": [a]})
    assert created.status_code == 200 and _PASSWORD_SHOWN.search(created.get_data(as_text=True))
    assert list(users.find_by_email(warehouse, f"new-{a}@example.com")["site_ids"]) == [a]
    admin = post(client, "/users/new", {"email": f"admin-{a}@example.com", "role": "admin", "site_ids": [a]})
    assert admin.status_code == 200 and list(users.find_by_email(warehouse, f"admin-{a}@example.com")["site_ids"])
    analyst = tenants.id("analyst")
    assert client.get(f"/users/{analyst}").status_code == 200
    promoted = post(client, f"/users/{analyst}", {"role": "admin", "active": "1", "site_ids": [a]})
    assert promoted.status_code == 302 and _stored(warehouse, analyst)[:3] == ("admin", [a], 1)
    assert post(client, f"/users/{analyst}", {"role": "analyst", "active": "0", "site_ids": [a]}).status_code == 302
    assert _stored(warehouse, analyst)[:3] == ("analyst", [a], 0)
    reset = post(client, f"/users/{tenants.id('peer')}/password")
    password = _PASSWORD_SHOWN.search(reset.get_data(as_text=True)).group(1)
    assert (
        reset.status_code == 200
        and sign_in(tenants.app.test_client(), tenants.email("peer"), password).status_code == 302
    )


def test_global_admin_manages_every_account(warehouse, tenants):
    client = tenants.client("global")
    a, b = tenants.a["site_id"], tenants.b["site_id"]
    for name in ("limited", "analyst_b", "analyst_ab", "analyst_none", "admin_b"):
        assert client.get(f"/users/{tenants.id(name)}").status_code == 200, name
    assert (
        post(
            client, f"/users/{tenants.id('analyst_b')}", {"role": "analyst", "active": "1", "site_ids": [a, b]}
        ).status_code
        == 302
    )
    assert _stored(warehouse, tenants.id("analyst_b"))[:2] == ("analyst", sorted([a, b]))
    assert post(client, f"/users/{tenants.id('admin_b')}", {"role": "admin", "active": "1"}).status_code == 302
    assert _stored(warehouse, tenants.id("admin_b"))[:2] == ("admin", [])
    assert post(client, f"/users/{tenants.id('limited')}/password").status_code == 200
    email = f"global-{a}@example.com"
    assert post(client, "/users/new", {"email": email, "role": "admin"}).status_code == 200
    assert list(users.find_by_email(warehouse, email)["site_ids"]) == []
    form = client.get("/users/new").get_data(as_text=True)
    assert a in form and b in form and "every site" in form
    listed = _all_listed(client, tenants.token("global"))
    assert {tenants.email(n) for n in tenants.accounts} <= {u["email"] for u in listed}
    assert len(listed) == users.count_users(warehouse)


def test_analyst_reaches_no_user_route(warehouse, tenants):
    client = tenants.client("analyst")
    target = tenants.id("peer")
    for url in ("/users", "/users/new", f"/users/{target}"):
        _refused(client.get(url))
    _refused(post(client, "/users/new", {"email": f"x-{target}@example.com", "role": "admin"}))
    _refused(post(client, f"/users/{target}", {"role": "analyst", "active": "0"}))
    _refused(post(client, f"/users/{target}/password"))
    _refused(client.get("/api/v1/users", headers=tenants.token("analyst")))
    assert _stored(warehouse, target)[:3] == ("admin", [tenants.a["site_id"]], 1)
    assert users.find_by_email(warehouse, f"x-{target}@example.com") is None


@pytest.mark.parametrize("role", ["global", "limited", "analyst"])
def test_each_role_manages_only_its_own_tokens(warehouse, tenants, role):
    client = tenants.client(role)
    me = client.get("/api/v1/me", headers=tenants.token(role)).get_json()
    assert me["user_id"] == tenants.id(role) and me["email"] == tenants.email(role)
    created = post(client, "/tokens", {"label": "nightly export"}, token_from="/tokens")
    token = re.search(r'id="token">([^<]+)<', created.get_data(as_text=True)).group(1)
    assert created.status_code == 200 and token.startswith("bt_")
    mine = {r["token_id"]: r["label"] for r in api_tokens.list_tokens(warehouse, tenants.id(role))}
    theirs = {}
    for name in [n for n in ("global", "peer", "analyst_b") if n != role]:
        tenants.token(name)
        theirs[name] = api_tokens.list_tokens(warehouse, tenants.id(name))[0]["token_id"]
    page = client.get("/tokens").get_data(as_text=True)
    assert all(t in page for t in mine) and not any(t in page for t in theirs.values())
    for name, token_id in theirs.items():
        response = post(client, f"/tokens/{token_id}/revoke", token_from="/tokens")
        assert response.status_code == 404 and "Traceback" not in response.get_data(as_text=True)
        assert token_id in {r["token_id"] for r in api_tokens.list_tokens(warehouse, tenants.id(name))}
    auth = {"Authorization": f"Bearer {token}"}
    assert tenants.app.test_client().get("/api/v1/me", headers=auth).status_code == 200
    (new_id,) = [t for t, label in mine.items() if label == "nightly export"]
    assert post(client, f"/tokens/{new_id}/revoke", token_from="/tokens").status_code == 302
    assert tenants.app.test_client().get("/api/v1/me", headers=auth).status_code == 401
