"""Identity verification on a site's settings page: the secrets, their rotation, the opt-in to trust unsigned."""

from tests.support.webapp_helpers import make_app, make_user, post, signed_in
from warehouse.queries import sites


def settings(client, site) -> str:
    return client.get(f"/s/{site['site_id']}/settings").get_data(as_text=True)


def test_admins_see_the_server_key_and_identity_secret_analysts_do_not(warehouse, site):
    app = make_app(warehouse)
    admin = signed_in(app, *make_user(warehouse, "admin"))
    page = settings(admin, site)
    assert site["server_key"] in page and site["identity_secret"] in page and "Identity verification" in page
    analyst = signed_in(app, *make_user(warehouse, "analyst", [site["site_id"]]))
    page = settings(analyst, site)
    assert site["write_key"] in page and site["public_key"] in page
    assert site["server_key"] not in page and site["identity_secret"] not in page
    for which in ("server_key", "identity_secret"):
        assert analyst.get(f"/s/{site['site_id']}/keys/{which}/rotate").status_code == 403


def test_trusting_unsigned_identifies_is_an_admins_confirmed_choice_with_a_warning(warehouse, site):
    app = make_app(warehouse)
    url = f"/s/{site['site_id']}/settings/identity"
    analyst = signed_in(app, *make_user(warehouse, "analyst", [site["site_id"]]))
    assert post(analyst, url, {"trust_unsigned": "1", "confirm": site["name"]}).status_code == 403
    admin = signed_in(app, *make_user(warehouse, "admin"))
    assert "unsigned identifies are trusted" not in settings(admin, site)
    post(admin, url, {"trust_unsigned": "1", "confirm": "not the name"})
    assert sites.get_site(warehouse, site["site_id"])["trust_unsigned"] == 0
    assert post(admin, url, {"trust_unsigned": "1", "confirm": site["name"]}).status_code == 302
    assert sites.get_site(warehouse, site["site_id"])["trust_unsigned"] == 1
    assert "Warning: unsigned identifies are trusted" in settings(admin, site)
    post(admin, url, {"trust_unsigned": "0"})
    assert sites.get_site(warehouse, site["site_id"])["trust_unsigned"] == 0


def test_secrets_rotate_and_an_old_site_creates_them(warehouse, site):
    app = make_app(warehouse)
    admin = signed_in(app, *make_user(warehouse, "admin"))
    url = f"/s/{site['site_id']}/keys/identity_secret/rotate"
    assert post(admin, url, {"confirm": site["name"]}).status_code == 302
    rotated = sites.get_site(warehouse, site["site_id"])
    assert rotated["identity_secret"] != site["identity_secret"] and rotated["identity_secret"].startswith("is_")
    assert rotated["server_key"] == site["server_key"] and rotated["write_key"] == site["write_key"]
    sites.update_site(warehouse, site["site_id"], server_key="")  # as a site made before the keys existed
    assert "Create…" in settings(admin, site)
    assert "Create the server key" in admin.get(f"/s/{site['site_id']}/keys/server_key/rotate").get_data(as_text=True)
    post(admin, f"/s/{site['site_id']}/keys/server_key/rotate", {"confirm": site["name"]})
    assert sites.get_site(warehouse, site["site_id"])["server_key"].startswith("sk_")
