"""Sign-out, a new password and deactivation end every session and API token of the user."""

from __future__ import annotations

from tests.conftest import new_site
from tests.support.webapp_helpers import make_app, make_user, post, signed_in
from warehouse.queries import users as user_store
from webapp import tokens


def _user_id(warehouse, email: str) -> str:
    return user_store.find_by_email(warehouse, email)["user_id"]


def _api(app, token: str) -> int:
    return app.test_client().get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"}).status_code


def _replay(app, cookie: str):
    """A fresh browser holding a copy of an old session cookie."""
    client = app.test_client()
    client.set_cookie("basirat_session", cookie)
    return client


def test_a_cookie_copied_before_sign_out_opens_nothing_after(warehouse):
    app = make_app(warehouse)
    email, password = make_user(warehouse, "analyst")
    client = signed_in(app, email, password)
    cookie = client.get_cookie("basirat_session").value
    assert _replay(app, cookie).get("/sites").status_code == 200
    assert post(client, "/logout").status_code == 302
    assert _replay(app, cookie).get("/sites").status_code == 302


def test_sign_out_ends_the_users_sessions_in_every_browser(warehouse):
    app = make_app(warehouse)
    email, password = make_user(warehouse, "analyst")
    laptop, phone = signed_in(app, email, password), signed_in(app, email, password)
    post(laptop, "/logout")
    assert phone.get("/sites").status_code == 302
    again = signed_in(app, email, password)  # signing in again works, with a new generation
    assert again.get("/sites").status_code == 200


def test_a_password_reset_ends_sessions_and_revokes_api_tokens(warehouse):
    app = make_app(warehouse)
    site = new_site(warehouse)
    email, password = make_user(warehouse, "analyst", [site["site_id"]])
    user_id = _user_id(warehouse, email)
    session = signed_in(app, email, password)
    _, token = tokens.issue(warehouse, user_id, "export")
    assert _api(app, token) == 200
    admin = signed_in(app, *make_user(warehouse, "admin"))
    assert post(admin, f"/users/{user_id}/password").status_code == 200
    assert session.get("/sites").status_code == 302
    assert _api(app, token) == 401
    assert admin.get("/sites").status_code == 200  # the admin's own session is untouched


def test_a_deactivated_users_token_stays_revoked_once_reactivated(warehouse):
    app = make_app(warehouse)
    site = new_site(warehouse)
    email, password = make_user(warehouse, "analyst", [site["site_id"]])
    user_id = _user_id(warehouse, email)
    session = signed_in(app, email, password)
    cookie = session.get_cookie("basirat_session").value
    _, token = tokens.issue(warehouse, user_id, "export")
    admin = signed_in(app, *make_user(warehouse, "admin"))
    form = {"role": "analyst", "site_ids": site["site_id"]}
    assert post(admin, f"/users/{user_id}", form).status_code == 302
    assert _api(app, token) == 401
    assert post(admin, f"/users/{user_id}", {**form, "active": "1"}).status_code == 302
    assert user_store.get_user(warehouse, user_id)["active"] == 1
    assert _api(app, token) == 401
    assert _replay(app, cookie).get("/sites").status_code == 302
    assert signed_in(app, email, password).get("/sites").status_code == 200


def test_an_edit_written_from_an_older_read_does_not_bring_ended_sessions_back(warehouse):
    email, _ = make_user(warehouse, "analyst")
    user_id = _user_id(warehouse, email)
    before = user_store.get_user(warehouse, user_id)
    user_store.update_user(warehouse, user_id, end_sessions=True)
    user_store._write(warehouse, {**before, "role": "analyst"})  # a concurrent edit, read before sign-out
    assert user_store.get_user(warehouse, user_id)["session_generation"] == before["session_generation"] + 1
