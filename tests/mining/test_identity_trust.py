"""Identity verification: who may say which customer a browser is (issue 19, item 2).

Through the real collector and loader, on both backends: a browser with the public write key
claims a customer's user id or email; only the store's server (its server key, or a userHash
signed with the site's identity secret) or an import may link a browser to a customer.
"""

import base64
import uuid

import pytest

import collector
from collector.loader import Loader
from core.identity import user_hash, valid_user_hash
from mining import stitching
from mining.identity import email_identity
from tests.support.factories import event
from tests.support.factories import load as load_rows
from warehouse.queries import identity as store
from warehouse.queries import scores
from warehouse.queries import sites as site_store


@pytest.fixture
def app(warehouse, tmp_path):
    app = collector.create_app({"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool")}, warehouse=warehouse)
    yield app
    app.extensions["basirat.collector"].spool.close()


def auth(key):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def send(app, key, *messages, status=200):
    for msg in messages:
        msg.setdefault("messageId", uuid.uuid4().hex)
    answer = app.test_client().post("/v1/batch", json={"batch": list(messages)}, headers=auth(key))
    assert answer.status_code == status, answer.json
    return answer


def drain(app, warehouse):
    return Loader(warehouse, app.config["SPOOL_DIR"]).drain()


def person(warehouse, sid, identity):
    return store.person_of(warehouse, sid, identity)


def flags_of(warehouse, sid, anonymous_id):
    rows = warehouse.query(
        "SELECT type, flags, context FROM events WHERE site_id = {s:String} AND anonymous_id = {a:String} "
        "ORDER BY type",
        {"s": sid, "a": anonymous_id},
    )
    return rows


def test_user_hash_is_hmac_sha256_hex_of_the_user_id():
    assert user_hash("key", "The quick brown fox jumps over the lazy dog") == (
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )
    assert valid_user_hash("s3cret", "cust-1", user_hash("s3cret", "cust-1").upper())
    for bad in ("", None, 7, "x" * 64, "é" * 64, user_hash("other", "cust-1")):
        assert not valid_user_hash("s3cret", "cust-1", bad)
    assert not valid_user_hash("", "cust-1", user_hash("", "cust-1"))  # no secret verifies nothing


def test_a_browser_cannot_claim_a_customer(app, warehouse, site):
    """Fails before identity verification: the forged identify, email and order all joined the customer."""
    sid, secret = site["site_id"], site["identity_secret"]
    email = "victim@example.com"
    # The customer: known from an import (web user id and email) and signed in on their laptop.
    imported = event(sid, 0, anon="", type="identify", event="", user_id="cust-1", traits={"email": email},
                     library_name="basirat-import", flags=["imported", "web_ids"])  # fmt: skip
    load_rows(warehouse, [imported])
    send(
        app,
        site["write_key"],
        {
            "type": "identify",
            "anonymousId": "laptop",
            "userId": "cust-1",
            "context": {"userHash": user_hash(secret, "cust-1")},
        },
    )
    # The attacker: fresh browsers with the public write key.
    forged_import = {"library": {"name": "basirat-import", "version": "1"}, "userHash": "0" * 64}
    send(
        app,
        site["write_key"],
        {"type": "identify", "anonymousId": "evil-1", "userId": "cust-1", "context": forged_import},
        {"type": "identify", "anonymousId": "evil-2", "traits": {"email": email}},
        {"type": "track", "event": "Order Completed", "userId": "cust-1",
         "properties": {"order_id": "forged", "revenue": 1000}},
    )  # fmt: skip
    drain(app, warehouse)
    result = stitching.stitch_site(warehouse, sid)

    victim = person(warehouse, sid, "user:cust-1")
    assert victim and person(warehouse, sid, "anon:laptop") == victim
    assert person(warehouse, sid, email_identity(email)) == victim
    for attacker in ("anon:evil-1", "anon:evil-2"):
        assert person(warehouse, sid, attacker) != victim
    reasons = {r["identity"]: r["reason"] for r in store.person_identities(warehouse, sid, victim)}
    assert reasons["anon:laptop"] == "identify" and "import" in reasons.values()
    # Kept, and shown as claimed; never as an import, whatever library.name said.
    claims = {(c["a"], c["b"], c["reason"]) for c in store.claims(warehouse, sid, ["user:cust-1"])}
    assert ("anon:evil-1", "user:cust-1", "claimed_identify") in claims
    assert {c["reason"] for c in store.claims(warehouse, sid, ["anon:evil-2"])} == {"claimed_email"}
    assert result["claimed"] >= 2
    links = store.links(warehouse, sid)
    assert set(links.loc[links["a"].str.startswith("anon:evil"), "reason"]) <= {"claimed_identify", "claimed_email",
                                                                                 "claimed_login"}  # fmt: skip
    # The forged order is its browser's, not the customer's revenue.
    revenue = scores.order_days(warehouse, sid).groupby("customer")["value"].sum().to_dict()
    assert revenue.get(victim, 0) == 0 and 1000 in revenue.values()
    dashboard = warehouse.query(
        "SELECT sum(order_revenue) AS revenue FROM visit_slots WHERE site_id = {s:String} "
        "AND identity_key = cityHash64('user:cust-1')",
        {"s": sid},
    )
    assert dashboard[0]["revenue"] == 0
    # The hash is checked, then dropped: it never reaches the stored context.
    assert all("userHash" not in row["context"] for row in flags_of(warehouse, sid, "laptop"))


def test_flags_say_what_was_verified(app, warehouse, site):
    sid, secret = site["site_id"], site["identity_secret"]
    signed = {"userHash": user_hash(secret, "u-7")}
    send(
        app,
        site["write_key"],
        {"type": "identify", "anonymousId": "signed", "userId": "u-7", "traits": {"email": "a@example.com"},
         "context": signed},
        {"type": "track", "event": "Product Viewed", "anonymousId": "signed", "userId": "u-7"},  # same request
    )  # fmt: skip
    send(
        app, site["write_key"], {"type": "track", "event": "Product Viewed", "anonymousId": "unsigned", "userId": "u-7"}
    )
    send(app, site["server_key"], {"type": "identify", "userId": "u-8", "anonymousId": "server",
                                   "traits": {"email": "b@example.com"}})  # fmt: skip
    drain(app, warehouse)
    assert [r["flags"] for r in flags_of(warehouse, sid, "signed")] == [["claimed_traits"], []]
    assert [r["flags"] for r in flags_of(warehouse, sid, "unsigned")] == [["claimed"]]
    assert [r["flags"] for r in flags_of(warehouse, sid, "server")] == [["server"]]
    stitching.stitch_site(warehouse, sid)
    # The server's email is the store's word; the browser's (even a signed-in one) only a claim.
    assert person(warehouse, sid, email_identity("b@example.com")) == person(warehouse, sid, "user:u-8")
    assert person(warehouse, sid, email_identity("a@example.com")) is None
    assert person(warehouse, sid, "anon:unsigned") is None


def test_server_key_is_its_own_secret_and_both_rotate(app, warehouse, site):
    sid = site["site_id"]
    assert site["server_key"].startswith("sk_") and site["identity_secret"].startswith("is_")
    assert len({site["write_key"], site["server_key"], site["identity_secret"], site["public_key"]}) == 4
    message = {"type": "track", "event": "X", "userId": "u"}
    send(app, site["server_key"], dict(message))
    rotated = site_store.rotate_key(warehouse, sid, "server_key")
    app.extensions["basirat.collector"].keys._loaded_at = 0  # as the periodic refresh does
    send(app, site["server_key"], dict(message), status=401)
    send(app, rotated["server_key"], dict(message))
    old_secret = site["identity_secret"]
    rotated = site_store.rotate_key(warehouse, sid, "identity_secret")
    assert rotated["identity_secret"] != old_secret and rotated["server_key"] != site["server_key"]
    app.extensions["basirat.collector"].keys._loaded_at = 0
    send(app, site["write_key"], {"type": "identify", "anonymousId": "old-hash", "userId": "u",
                                  "context": {"userHash": user_hash(old_secret, "u")}})  # fmt: skip
    drain(app, warehouse)
    assert [r["flags"] for r in flags_of(warehouse, sid, "old-hash")] == [["claimed"]]


def test_a_site_may_trust_unsigned_identifies(app, warehouse, site):
    sid = site["site_id"]
    site_store.update_site(warehouse, sid, trust_unsigned=1)
    app.extensions["basirat.collector"].keys._loaded_at = 0
    send(app, site["write_key"], {"type": "identify", "anonymousId": "trusting", "userId": "u-9",
                                  "traits": {"email": "c@example.com"}})  # fmt: skip
    drain(app, warehouse)
    assert [r["flags"] for r in flags_of(warehouse, sid, "trusting")] == [[]]
    stitching.stitch_site(warehouse, sid)
    assert person(warehouse, sid, "anon:trusting") == person(warehouse, sid, "user:u-9") is not None


def test_a_site_made_before_identity_verification_verifies_nothing(app, warehouse, site):
    """An empty identity secret (a site created before the migration) makes every user id a claim."""
    sid = site["site_id"]
    site_store.update_site(warehouse, sid, identity_secret="", server_key="")
    app.extensions["basirat.collector"].keys._loaded_at = 0
    send(app, site["write_key"], {"type": "identify", "anonymousId": "legacy", "userId": "u",
                                  "context": {"userHash": user_hash("", "u")}})  # fmt: skip
    drain(app, warehouse)
    assert [r["flags"] for r in flags_of(warehouse, sid, "legacy")] == [["claimed"]]


def test_a_claim_without_a_browser_id_stands_apart_from_the_user(app, warehouse, site):
    sid = site["site_id"]
    send(app, site["write_key"], {"type": "track", "event": "Order Completed", "userId": "u-1",
                                  "properties": {"revenue": 5}})  # fmt: skip
    drain(app, warehouse)
    row = warehouse.query("SELECT anonymous_id, user_id, flags FROM events WHERE site_id = {s:String}", {"s": sid})[0]
    assert row["user_id"] == "u-1" and row["anonymous_id"].startswith("claimed-") and row["flags"] == ["claimed"]


def test_the_profile_shows_claims_apart_from_identities(warehouse, site):
    from tests.support.webapp_helpers import make_app, make_user, signed_in

    sid = site["site_id"]
    load_rows(
        warehouse,
        [
            event(sid, 0, anon="own-laptop", type="identify", event="", user_id="cust-9"),
            event(sid, 1, anon="stranger", type="identify", event="", user_id="cust-9", flags=["claimed"]),
        ],
    )
    stitching.stitch_site(warehouse, sid)
    admin = signed_in(make_app(warehouse), *make_user(warehouse, "admin"))
    page = admin.get(f"/s/{sid}/people/user:cust-9").get_data(as_text=True)
    identities, claims = page.split("Claimed, not verified")
    assert "anon:own-laptop" in identities and "anon:stranger" not in identities
    assert "anon:stranger" in claims and "user:cust-9" in claims
