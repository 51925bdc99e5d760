"""Where sign-in goes next: a `next` with control characters is refused cleanly, not a 500."""

from __future__ import annotations

import pytest

from tests.support.webapp_helpers import csrf_token, make_app, make_user


@pytest.mark.parametrize("target", ["/sites\r\nSet-Cookie: x=1", "/sites\nX: y", "/sites\r", "/sites\x00", "/s\tx"])
def test_control_characters_in_next_send_the_user_home(chdb_warehouse, target):
    app = make_app(chdb_warehouse, PROPAGATE_EXCEPTIONS=False)
    email, password = make_user(chdb_warehouse)
    client = app.test_client()
    form = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    response = client.post("/login", query_string={"next": target}, data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_plain_next_path_is_still_followed(chdb_warehouse):
    app = make_app(chdb_warehouse)
    email, password = make_user(chdb_warehouse)
    client = app.test_client()
    form = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    response = client.post("/login", query_string={"next": "/sites?page=2"}, data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/sites?page=2"
