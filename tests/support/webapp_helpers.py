"""Helpers for admin web app tests: an app on a test warehouse, users, signing in.

Page tests of any family use these: ``app = make_app(warehouse)``,
``email, password = make_user(warehouse, "analyst", [site_id])``,
``client = signed_in(app, email, password)``, then ``post(client, url, data)``
for state-changing requests (it sends the CSRF token the way a form does).
"""

from __future__ import annotations

import re
import uuid

from webapp import accounts, create_app

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(warehouse, **config):
    return create_app({"TESTING": True, "SECRET_KEY": "test-" + uuid.uuid4().hex, **config}, warehouse=warehouse)


def make_user(warehouse, role: str = "admin", site_ids: list[str] | None = None) -> tuple[str, str]:
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    accounts.create(warehouse, email, role, PASSWORD, site_ids)
    return email, PASSWORD


def csrf_token(client, url: str = "/login") -> str:
    page = client.get(url).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def sign_in(client, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def signed_in(app, email: str, password: str):
    client = app.test_client()
    response = sign_in(client, email, password)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def post(client, url: str, data: dict | None = None, token_from: str = "/sites"):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, token_from)})
