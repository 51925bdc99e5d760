"""The recommendation endpoint with the public key in anyone's hands (issue 19, item 3): personal answers
only for the caller's own browser id or a signed user id, and rate limits per client and per site."""

import uuid

from core.identity import user_hash
from recommender import api
from tests.support.factories import recent as event
from warehouse.queries import events


def get(client, site, ip="198.51.100.1", **params):
    return client.get(
        "/v1/recommendations",
        query_string={"key": site["public_key"], **params},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_a_user_id_without_its_hash_gets_the_non_personal_answer(endpoint):
    """Fails on the old code: any userId got that customer's personal list."""
    client, _, site = endpoint
    secret = site["identity_secret"]
    cold = get(client, site, anonymousId="never-seen-" + uuid.uuid4().hex).get_json()
    assert cold["strategy"] in ("trending", "popular")
    for params in ({}, {"userHash": "0" * 64}, {"userHash": user_hash(secret, "someone-else")}):
        named = get(client, site, userId="alice", **params).get_json()
        assert named["strategy"] == cold["strategy"] and named["items"] == cold["items"]
    signed = get(client, site, userId="alice", userHash=user_hash(secret, "alice")).get_json()
    assert signed["strategy"] == "person" and signed["items"][0]["reason"] == "for you"
    # The customer's own browser id is theirs: it needs no hash.
    assert get(client, site, anonymousId="laptop-1").get_json()["strategy"] == "person"


def test_a_customers_live_session_is_theirs_alone(endpoint, mined):
    """Fails on the old code: naming a shopper showed what they were looking at right now."""
    client, state, site = endpoint
    warehouse, _ = mined
    secret = site["identity_secret"]
    bob, carol = "bob-" + uuid.uuid4().hex[:6], "carol-" + uuid.uuid4().hex[:6]
    live = [
        event(site["site_id"], bob + "-phone", "Product Viewed", minutes_ago=0, product_id="robot", user_id=bob),
        # A browser claiming to be Carol: its events are not Carol's session.
        event(site["site_id"], "forger", "Product Viewed", minutes_ago=0, product_id="lamp", user_id=carol,
              flags=["claimed"]),
    ]  # fmt: skip
    for row in live:
        row["received_at"] = row["timestamp"]
    events.insert_events(warehouse, live)
    assert state.tail() >= 2
    assert get(client, site, userId=bob).get_json()["strategy"] not in ("session_knn", "person")
    assert get(client, site, userId=bob, userHash=user_hash(secret, bob)).get_json()["strategy"] == "session_knn"
    assert get(client, site, anonymousId=bob + "-phone").get_json()["strategy"] == "session_knn"
    assert get(client, site, userId=carol, userHash=user_hash(secret, carol)).get_json()["strategy"] != "session_knn"


def test_rate_limits_per_client_and_per_site(mined, tmp_path):
    """Fails on the old code: 400 requests in 0.7 s were all answered and logged as served."""
    warehouse, site = mined
    settings = {"SPOOL_DIR": str(tmp_path / "spool"), "REC_IP_RATE_LIMIT": 5, "REC_SITE_RATE_LIMIT": 12}
    app = api.create_app(settings, warehouse=warehouse, start=False)
    client, state = app.test_client(), app.extensions["basirat.recommender"]
    answers = [get(client, site, ip="203.0.113.7", anonymousId="a") for _ in range(10)]
    assert [a.status_code for a in answers].count(200) <= 6 and answers[-1].status_code == 429
    assert answers[-1].get_json()["error"] == "rate_limited" and int(answers[-1].headers["Retry-After"]) >= 1
    assert get(client, site, ip="203.0.113.8", anonymousId="b").status_code == 200  # another client
    others = [get(client, site, ip=f"192.0.2.{n}", anonymousId="c").status_code for n in range(20)]
    assert others.count(429) >= 5  # the site's own limit, whoever asks
    answered = sum(a.status_code == 200 for a in answers) + 1 + others.count(200)
    assert state.flush() == answered  # a refused request is not counted as served
