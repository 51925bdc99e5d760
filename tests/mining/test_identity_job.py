"""The identity job on both backends: links from events, versioned map, merge and unmerge."""

from mining import stitching
from mining.identity import email_identity
from tests.support.factories import event, load, page
from warehouse.queries import identity as store


def person(warehouse, sid, identity):
    return store.person_of(warehouse, sid, identity)


def test_devices_logins_and_email_make_one_person_and_shared_device_does_not(warehouse, site):
    sid = site["site_id"]
    load(
        warehouse,
        [
            page(sid, 0, anon="laptop"),
            page(sid, 1, anon="phone"),
            event(
                sid,
                2,
                anon="laptop",
                type="identify",
                event="",
                user_id="alice",
                traits={"email": "  Alice@Example.COM "},
            ),
            event(sid, 3, anon="phone", event="Product Viewed", user_id="alice"),
            event(sid, 4, anon="laptop", type="identify", event="", user_id="bob"),  # no reset(): shared
            event(sid, 5, anon="tablet", type="alias", event="", previous_id="tablet", user_id="bob"),
        ],
    )
    result = stitching.stitch_site(warehouse, sid)
    alice = person(warehouse, sid, "user:alice")
    assert person(warehouse, sid, "anon:laptop") == person(warehouse, sid, "anon:phone") == alice
    assert person(warehouse, sid, email_identity("alice@example.com")) == alice
    assert person(warehouse, sid, "user:bob") == person(warehouse, sid, "anon:tablet") != alice
    assert result["refused"] == 1
    reasons = {r["identity"]: (r["reason"], r["via"]) for r in store.person_identities(warehouse, sid, alice)}
    assert reasons["anon:laptop"] == ("identify", "user:alice")
    assert reasons["anon:phone"] == ("login", "user:alice")
    # A second run with nothing new writes no new version.
    assert stitching.stitch_site(warehouse, sid)["changed"] == 0


def test_manual_merge_and_unmerge_are_versioned_and_audited(warehouse, site):
    sid = site["site_id"]
    load(
        warehouse,
        [
            event(sid, 0, anon="d1", type="identify", event="", user_id="u1"),
            event(sid, 1, anon="d2", type="identify", event="", user_id="u2"),
        ],
    )
    stitching.stitch_site(warehouse, sid)
    before = int(store.current_map(warehouse, sid)["version"].max())
    assert person(warehouse, sid, "user:u1") != person(warehouse, sid, "user:u2")
    stitching.merge(warehouse, sid, "user:u1", "user:u2", actor="admin@shop", note="same customer, two accounts")
    assert person(warehouse, sid, "user:u1") == person(warehouse, sid, "user:u2") == person(warehouse, sid, "anon:d2")
    stitching.unmerge(warehouse, sid, "user:u2", actor="admin@shop", note="different people after all")
    assert person(warehouse, sid, "user:u1") != person(warehouse, sid, "user:u2")
    assert person(warehouse, sid, "anon:d2") == person(warehouse, sid, "user:u2")  # its own login stays
    # The map as it stood before the merge is still readable, also once ClickHouse has merged the parts.
    warehouse.execute("OPTIMIZE TABLE identity_map FINAL")
    old = store.current_map(warehouse, sid, as_of=before).set_index("identity")["person_id"]
    assert old["user:u2"] == old["anon:d2"] != old["user:u1"]
    trail = store.audit_trail(warehouse, sid, ["user:u2"])
    assert [t["action"] for t in trail] == ["merge", "unmerge", "unmerge"]
    assert trail[0]["actor"] == "admin@shop" and trail[0]["note"] == "same customer, two accounts"
