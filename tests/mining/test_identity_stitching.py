"""Properties of the stitching logic (pure: DataFrame in, people out)."""

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.identity import email_identity, stitch_identities

T0 = dt.datetime(2026, 1, 1)
IDS = st.sampled_from(
    [f"anon:d{i}" for i in range(6)]
    + [f"user:u{i}" for i in range(4)]
    + [f"customer:c{i}" for i in range(2)]
    + [f"email:e{i}" for i in range(3)]
)
LINK = st.tuples(IDS, IDS, st.sampled_from(["identify", "login", "alias", "email"]), st.integers(0, 50))


def frame(links) -> pd.DataFrame:
    rows = [
        {"a": a, "b": b, "reason": r, "message_id": f"m{i}-{t}", "at": T0 + dt.timedelta(minutes=t)}
        for i, (a, b, r, t) in enumerate(links)
    ]
    return pd.DataFrame(rows, columns=["a", "b", "reason", "message_id", "at"])


def people(assignment: pd.DataFrame) -> set[frozenset]:
    return {frozenset(g["identity"]) for _, g in assignment.groupby("person_id")}


@settings(max_examples=40, deadline=None)
@given(st.lists(LINK, max_size=25))
def test_two_known_customers_are_never_merged(links):
    result = stitch_identities(frame(links)).assignment
    for kind in ("user:", "customer:"):
        known = result[result["identity"].str.startswith(kind)]
        assert (known.groupby("person_id").size() <= 1).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(LINK, max_size=25), st.randoms(use_true_random=False))
def test_order_of_arrival_does_not_matter(links, rnd):
    shuffled = list(links)
    rnd.shuffle(shuffled)
    first = stitch_identities(frame(links)).assignment
    second = stitch_identities(frame(shuffled)).assignment
    pd.testing.assert_frame_equal(first.drop(columns="message_id"), second.drop(columns="message_id"))


@settings(max_examples=40, deadline=None)
@given(st.lists(LINK, max_size=25))
def test_running_twice_changes_nothing(links):
    links = frame(links)
    once = stitch_identities(links)
    # Feeding the accepted result back as evidence, with the original links, changes nobody.
    kept = once.assignment[once.assignment["via"] != ""]
    again_links = pd.concat(
        [links, kept.rename(columns={"identity": "a", "via": "b", "linked_at": "at"})[links.columns]]
    )
    twice = stitch_identities(again_links)
    pd.testing.assert_frame_equal(once.assignment, stitch_identities(links).assignment)
    assert people(twice.assignment) == people(once.assignment)
    assert dict(zip(twice.assignment["identity"], twice.assignment["person_id"])) == dict(
        zip(once.assignment["identity"], once.assignment["person_id"])
    )


def test_shared_device_after_reset_keeps_customers_apart():
    links = frame(
        [
            ("anon:laptop", "user:alice", "login", 0),
            ("anon:phone", "user:alice", "login", 5),
            ("anon:laptop", "user:bob", "login", 10),  # same browser, no reset(): a shared device
            ("user:bob", email_identity(" Bob@Example.com "), "email", 11),
        ]
    )
    result = stitch_identities(links)
    person = dict(zip(result.assignment["identity"], result.assignment["person_id"]))
    assert person["anon:laptop"] == person["anon:phone"] == person["user:alice"]
    assert person["user:bob"] != person["user:alice"]
    assert person[email_identity("bob@example.com")] == person["user:bob"]
    (refusal,) = result.refused.to_dict("records")
    assert refusal["refused"] == "two_known_customers" and refusal["b"] == "user:bob"


def test_every_merge_records_why_and_manual_overrides():
    links = frame([("anon:d1", "user:u1", "identify", 0), ("anon:d2", "user:u2", "login", 1)])
    manual = pd.DataFrame(
        [{"a": "user:u1", "b": "user:u2", "reason": "manual", "message_id": "op-1", "at": T0 + dt.timedelta(minutes=9)}]
    )
    merged = stitch_identities(pd.concat([links, manual])).assignment.set_index("identity")
    assert merged["person_id"].nunique() == 1
    assert merged.loc["anon:d1", "reason"] == "identify" and merged.loc["anon:d1", "via"] == "user:u1"
    assert merged.loc["user:u2", "reason"] in ("login", "manual")
    blocked = stitch_identities(links, blocks=pd.DataFrame([{"a": "anon:d1", "b": "user:u1"}])).assignment
    person = dict(zip(blocked["identity"], blocked["person_id"]))
    assert person["anon:d1"] != person["user:u1"]


def test_cap_on_ids_per_person():
    links = frame([(f"anon:d{i}", "user:u1", "login", i) for i in range(10)])
    result = stitch_identities(links, max_ids=4)
    assert result.assignment.groupby("person_id").size().max() == 4
    assert set(result.refused["refused"]) == {"too_many_ids"}
