"""Admin sign-in, sessions, CSRF, security headers, throttling and the secret key."""

from __future__ import annotations

import os
import stat

import pytest

from tests.support.webapp_helpers import PASSWORD, csrf_token, make_app, make_user, post, sign_in, signed_in
from webapp.security import secret_key
from webapp.throttle import Throttle


def test_pages_need_sign_in_and_redirect_to_login(warehouse, site):
    client = make_app(warehouse).test_client()
    for url in ["/", "/sites", "/users", f"/s/{site['site_id']}/", f"/s/{site['site_id']}/settings"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_sign_in_then_sign_out(warehouse, site):
    app = make_app(warehouse)
    email, password = make_user(warehouse, "admin")
    client = signed_in(app, email, password)
    assert email in client.get("/sites").get_data(as_text=True)
    cookie = client.get_cookie("basirat_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    assert post(client, "/logout").status_code == 302
    assert client.get("/sites").status_code == 302


def test_wrong_password_and_unknown_email_look_the_same(warehouse):
    client = make_app(warehouse).test_client()
    email, _ = make_user(warehouse, "analyst")
    wrong = sign_in(client, email, "not the password")
    unknown = sign_in(client, "nobody-" + email, PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password" in wrong.get_data(as_text=True)


def test_secure_cookie_setting(warehouse):
    app = make_app(warehouse, SECURE_COOKIES=True)
    email, password = make_user(warehouse)
    client = app.test_client()
    sign_in(client, email, password)
    assert client.get_cookie("basirat_session").secure


def test_deactivated_user_is_signed_out_and_cannot_sign_in(warehouse):
    from warehouse.queries import users

    app = make_app(warehouse)
    email, password = make_user(warehouse, "analyst")
    client = signed_in(app, email, password)
    users.update_user(warehouse, users.find_by_email(warehouse, email)["user_id"], active=0)
    assert client.get("/sites").status_code == 302
    assert sign_in(app.test_client(), email, password).status_code == 401


def test_open_redirect_after_sign_in_is_refused(warehouse):
    app = make_app(warehouse)
    email, password = make_user(warehouse)
    client = app.test_client()
    token = csrf_token(client)
    for target in ["//evil.example/", "https://evil.example/", "/\\evil.example"]:
        form = {"email": email, "password": password, "csrf_token": token}
        response = client.post(f"/login?next={target}", data=form)
        assert response.status_code == 302 and response.headers["Location"] == "/", target
        client.post("/logout", data={"csrf_token": csrf_token(client, "/sites")})
        token = csrf_token(client)


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(warehouse, site):
    app = make_app(warehouse)
    email, password = make_user(warehouse)
    client = signed_in(app, email, password)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):  # token-only, no cookie: no CSRF
            continue
        args = {name: site["site_id"] if name == "site_id" else "write_key" for name in rule.arguments}
        url = rule.build(args)[1] if args else rule.rule
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(url, data=data)
            assert response.status_code == 400, (rule.rule, data)
        checked += 1
    assert checked >= 5
    assert client.get("/sites").status_code == 200  # still signed in: logout was refused too


def test_security_headers_on_every_response(warehouse):
    client = make_app(warehouse).test_client()
    for url in ["/login", "/nowhere", "/static/app.css"]:
        response = client.get(url)
        headers = response.headers
        response.close()
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_login_page_has_no_inline_script_or_style(warehouse):
    page = make_app(warehouse).test_client().get("/login").get_data(as_text=True)
    assert "<script>" not in page and "<style" not in page and " style=" not in page and " on" + "click=" not in page


def test_throttle_locks_an_account_after_repeated_failures(warehouse):
    app = make_app(warehouse)
    email, password = make_user(warehouse)
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, email, "wrong password!").status_code == 401
    locked = sign_in(client, email, password)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    other, other_password = make_user(warehouse)
    assert sign_in(app.test_client(), other, other_password).status_code == 302


def test_throttle_per_address_behind_a_trusted_proxy(chdb_warehouse):
    warehouse = chdb_warehouse
    app = make_app(warehouse, TRUST_PROXY=True)
    app.extensions["basirat.throttle"] = Throttle(per_account=5, per_ip=4)
    client = app.test_client()
    attacker = {"X-Forwarded-For": "198.51.100.7"}
    token = csrf_token(client)
    for n in range(4):
        form = {"email": f"guess{n}@example.com", "password": "wrong password!", "csrf_token": token}
        assert client.post("/login", data=form, headers=attacker).status_code == 401
    email, password = make_user(warehouse)
    form = {"email": email, "password": password, "csrf_token": token}
    assert client.post("/login", data=form, headers=attacker).status_code == 429
    spoofed = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
    assert client.post("/login", data=form, headers=spoofed).status_code == 429
    assert client.post("/login", data=form, headers={"X-Forwarded-For": "192.0.2.1"}).status_code == 302


def test_throttle_counts_per_address_across_accounts():
    now = [0.0]
    throttle = Throttle(per_account=5, per_ip=3, window=60, clock=lambda: now[0])
    for n in range(3):
        throttle.failed(f"user{n}@example.com", "10.0.0.1")
    assert throttle.retry_after("fresh@example.com", "10.0.0.1") > 0
    assert throttle.retry_after("fresh@example.com", "10.0.0.2") == 0
    now[0] = 61.0
    assert throttle.retry_after("fresh@example.com", "10.0.0.1") == 0


def test_generated_secret_key_is_kept_private_and_stable(tmp_path):
    config = {"SECRET_KEY": "", "SPOOL_DIR": str(tmp_path / "spool")}
    first = secret_key(config)
    assert len(first) >= 40 and secret_key(config) == first
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert secret_key({"SECRET_KEY": "given", "SPOOL_DIR": str(tmp_path)}) == "given"


def test_errors_render_the_error_page_without_a_trace(warehouse):
    app = make_app(warehouse, PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom-test")
    def boom():
        raise RuntimeError("secret internals")

    email, password = make_user(warehouse)
    client = signed_in(app, email, password)
    response = client.get("/boom-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body and "secret internals" not in body and "Traceback" not in body
    assert "Not found" in client.get("/no/such/page").get_data(as_text=True)


@pytest.mark.parametrize("header", ["Authorization", "X-Write-Key"])
def test_site_keys_never_authenticate_the_admin(warehouse, site, header):
    import base64

    client = make_app(warehouse).test_client()
    basic = "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode()
    value = basic if header == "Authorization" else site["write_key"]
    for key in (site["write_key"], site["public_key"]):
        for url in ["/", "/sites", f"/s/{site['site_id']}/", f"/s/{site['site_id']}/settings?write_key={key}"]:
            response = client.get(url, headers={header: value})
            assert response.status_code == 302 and "/login" in response.headers["Location"]
