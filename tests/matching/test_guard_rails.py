"""Guard rails: shared values never merge alone, households stay apart, one source's two ids stay two."""

import pandas as pd

from matching.decide import MatchSettings, decide, deterministic_pairs, guard_shared, names_compatible
from matching.resolve import resolve
from matching.standardise import standardise


def records(rows):
    frame = standardise(pd.DataFrame(rows), "IR")
    frame["uid"] = [f"record:{r['source']}/{r['source_id']}" for r in rows]
    frame["verified"] = [r.get("verified", True) for r in rows]
    return frame


def linked(decided):
    return {(a, b) for a, b, d in zip(decided["a"], decided["b"], decided["decision"]) if d == "link"}


def test_a_shops_own_phone_never_merges_on_its_own():
    shop_phone = "021 8888 0000"
    rows = [
        {"source": "till", "source_id": str(i), "first_name": name, "last_name": "X" + name, "phone": shop_phone}
        for i, name in enumerate(["Ali", "Sara", "Reza", "Nima", "Mina", "Omid"])
    ]
    frame = records(rows)
    guarded, blanked = guard_shared(frame, max_shared=4)
    assert blanked["std_phone"] == {"+982188880000"}
    assert deterministic_pairs(guarded).empty
    assert linked(resolve(frame)) == set()


def test_a_placeholder_email_is_no_evidence():
    frame = records(
        [
            {"source": "web", "source_id": "1", "first_name": "Ali", "email": "test@test.com"},
            {"source": "list", "source_id": "2", "first_name": "Sara", "email": "TEST@test.com"},
        ]
    )
    assert linked(resolve(frame)) == set()


def test_a_household_sharing_a_phone_stays_two_people():
    frame = records(
        [
            {"source": "till", "source_id": "1", "first_name": "Reza", "last_name": "Karimi", "phone": "02122223333"},
            {
                "source": "web",
                "source_id": "2",
                "first_name": "Maryam",
                "last_name": "Karimi",
                "phone": "021 2222 3333",
            },
        ]
    )
    decided = resolve(frame)
    assert linked(decided) == set()
    assert decided[["decision", "why"]].values.tolist() == [["none", "first names differ"]]


def test_one_person_on_two_keyboards_and_two_phone_formats_is_linked():
    frame = records(
        [
            {"source": "till", "source_id": "1", "first_name": "علي", "last_name": "كريمي", "phone": "09121234567"},
            {
                "source": "call",
                "source_id": "7",
                "first_name": "علی",
                "last_name": "کریمی",
                "phone": "+98 912 123 4567",
            },
        ]
    )
    assert linked(resolve(frame)) == {("record:call/7", "record:till/1")}


def test_two_verified_ids_of_one_source_are_never_merged_by_a_match():
    same = {"first_name": "Sara", "last_name": "Ahmadi", "email": "sara@example.ir", "postcode": "1234567890"}
    frame = records(
        [
            {"source": "till", "source_id": "1", **same},
            {"source": "till", "source_id": "2", **same},
        ]
    )
    decided = resolve(frame)
    assert linked(decided) == set()
    assert list(decided["decision"]) == ["review"] and list(decided["why"]) == ["two ids of one source"]


def test_nor_through_a_record_of_another_source():
    person = {"first_name": "Sara", "last_name": "Ahmadi", "postcode": "1234567890"}
    frame = records(
        [
            {"source": "till", "source_id": "1", **person, "phone": "09121111111"},
            {"source": "call", "source_id": "5", **person, "phone": "09121111111", "email": "s@example.ir"},
            {"source": "till", "source_id": "2", **person, "email": "s@example.ir"},
        ]
    )
    decided = resolve(frame)
    links = linked(decided)
    assert len(links) == 1 and all("call/5" in " ".join(pair) for pair in links)


def test_an_unverified_list_may_hold_one_customer_twice():
    same = {"first_name": "Sara", "last_name": "Ahmadi", "email": "sara@example.ir"}
    frame = records(
        [
            {"source": "newsletter", "source_id": "1", "verified": False, **same},
            {"source": "newsletter", "source_id": "2", "verified": False, **same},
        ]
    )
    assert linked(resolve(frame)) == {("record:newsletter/1", "record:newsletter/2")}


def test_verdicts_override_the_model():
    frame = records(
        [
            {"source": "a", "source_id": "1", "first_name": "Ali", "last_name": "Rezaei", "email": "ali@example.ir"},
            {"source": "b", "source_id": "2", "first_name": "Aly", "last_name": "Rezaie", "email": "ali@example.ir"},
        ]
    )
    verdicts = pd.DataFrame({"a": ["record:a/1"], "b": ["record:b/2"], "verdict": ["reject"]})
    decided = resolve(frame, verdicts)
    assert linked(decided) == set() and list(decided["why"]) == ["operator: reject"]
    verdicts["verdict"] = "accept"
    household = records(
        [
            {"source": "a", "source_id": "1", "first_name": "Reza", "last_name": "K", "phone": "02122223333"},
            {"source": "b", "source_id": "2", "first_name": "Maryam", "last_name": "K", "phone": "02122223333"},
        ]
    )
    assert linked(resolve(household, verdicts)) == {("record:a/1", "record:b/2")}


def test_names_compatible_allows_typos_initials_and_swaps_only():
    assert names_compatible("ali", "aly")
    assert names_compatible("mohammad", "mohamad")
    assert names_compatible("j", "john")
    assert names_compatible("smith", "john", "john", "smith")
    assert not names_compatible("sara", "zahra")
    assert not names_compatible("reza", "maryam")


def test_decide_sends_the_grey_zone_to_review():
    frame = records(
        [
            {"source": "a", "source_id": "1", "first_name": "John", "last_name": "Smith", "city": "Leeds"},
            {"source": "b", "source_id": "2", "first_name": "Jon", "last_name": "Smith", "city": "Leeds"},
        ]
    )
    scored = pd.DataFrame(
        {
            "a": ["record:a/1"],
            "b": ["record:b/2"],
            "weight": [1.0],
            "probability": [0.6],
            "agree": [["last_name", "city"]],
            "close": [["first_name"]],
            "differ": [[]],
        }
    )
    none = pd.DataFrame(columns=["a", "b", "verdict"])
    empty = deterministic_pairs(frame.iloc[:0])
    assert list(decide(frame, empty, scored, none, MatchSettings(link_weight=4, review_weight=0))["decision"]) == [
        "review"
    ]
    assert list(decide(frame, empty, scored, none, MatchSettings(link_weight=1, review_weight=0))["decision"]) == [
        "link"
    ]
    assert decide(frame, empty, scored, none, MatchSettings(link_weight=4, review_weight=2)).empty
    # A name and nothing else: names repeat, so the pair waits for an operator whatever its weight.
    scored["agree"] = [["last_name"]]
    named = decide(frame, empty, scored, none, MatchSettings(link_weight=1, review_weight=0))
    assert list(named["decision"]) == ["review"] and list(named["why"]) == ["only the name agrees"]
