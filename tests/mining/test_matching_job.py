"""Customer records of three channels end as people: the till, the call centre and the web shop."""

import pandas as pd

from matching.standardise import standardise
from mining import matching, stitching
from tests.support.config import config
from tests.support.factories import event, load
from warehouse.queries import identity as ids
from warehouse.queries import matching as store

CONFIG = config(MATCH_DEFAULT_REGION="IR")


def put(warehouse, site_id, source, rows, verified=True):
    frame = standardise(pd.DataFrame(rows), "IR")
    frame.insert(0, "site_id", site_id)
    frame.insert(1, "source", source)
    frame["verified"] = verified
    frame["raw"] = "{}"
    store.write_records(warehouse, frame)


def person(warehouse, site_id, identity):
    return ids.person_of(warehouse, site_id, identity)


def test_till_call_centre_and_web_are_one_person_and_a_household_stays_two(warehouse, site):
    sid = site["site_id"]
    load(
        warehouse,
        [
            event(
                sid,
                0,
                anon="web-1",
                type="identify",
                event="",
                user_id="w42",
                traits={"email": "Sara.Ahmadi@example.ir"},
            )
        ],
    )
    stitching.stitch_site(warehouse, sid)
    put(
        warehouse,
        sid,
        "till",
        [
            {"source_id": "T1", "first_name": "سارا", "last_name": "احمدي", "phone": "0912 345 6789"},
            # A household: one landline, two people (the other one called the call centre).
            {"source_id": "T2", "first_name": "Reza", "last_name": "Karimi", "phone": "021 2222 3333"},
        ],
    )
    put(
        warehouse,
        sid,
        "call-centre",
        [
            {
                "source_id": "C9",
                "first_name": "سارا",
                "last_name": "احمدی",
                "phone": "+98 912 3456789",
                "email": " sara.ahmadi@EXAMPLE.ir",
            },
            {"source_id": "C10", "first_name": "Maryam", "last_name": "Karimi", "phone": "021-22223333"},
        ],
    )
    result = matching.match_site(warehouse, sid, CONFIG, progress=lambda line: None)
    assert result["records"] == 4 and result["links"] == 1
    sara = person(warehouse, sid, "user:w42")
    assert sara is not None
    assert person(warehouse, sid, "record:till/T1") == person(warehouse, sid, "record:call-centre/C9") == sara
    joined = {r["identity"] for r in ids.person_identities(warehouse, sid, sara)}
    assert {"record:till/T1", "record:call-centre/C9", "user:w42", "anon:web-1"} <= joined
    sources = {r["source"] for r in store.records_of(warehouse, sid, sorted(joined))}
    assert sources == {"till", "call-centre"}
    why = store.matches_of(warehouse, sid, ["record:till/T1"])
    assert why and why[0]["decision"] == "link" and "phone" in why[0]["agree"]
    household = store.matches(warehouse, sid)
    household = household[household["b"] == "record:till/T2"]
    assert household[["a", "decision", "why"]].values.tolist() == [
        ["record:call-centre/C10", "none", "first names differ"]
    ]
    assert store.review_queue(warehouse, sid) == []
    assert person(warehouse, sid, "record:till/T2") != person(warehouse, sid, "record:call-centre/C10")
    assert person(warehouse, sid, "record:till/T2") is not None  # a person of one record still
    counts = {s["source"]: s["records"] for s in store.sources(warehouse, sid)}
    assert counts == {"till": 2, "call-centre": 2}


def test_reimport_updates_and_review_verdicts_feed_the_next_run(warehouse, site):
    sid = site["site_id"]
    put(warehouse, sid, "shop", [{"source_id": "1", "first_name": "John", "last_name": "Smith", "city": "Leeds"}])
    put(
        warehouse,
        sid,
        "list",
        [{"source_id": "a", "first_name": "Jon", "last_name": "Smith", "city": "Leeds"}],
        verified=False,
    )
    put(
        warehouse,
        sid,
        "shop",
        [{"source_id": "1", "first_name": "John", "last_name": "Smith", "city": "Leeds", "postcode": "LS1 4AP"}],
    )
    assert len(store.records(warehouse, sid)) == 2
    matching.match_site(warehouse, sid, config(MATCH_LINK_WEIGHT=30.0), progress=lambda line: None)
    queue = store.review_queue(warehouse, sid)
    assert [(q["a"], q["b"]) for q in queue] == [("record:list/a", "record:shop/1")]
    assert person(warehouse, sid, "record:list/a") != person(warehouse, sid, "record:shop/1")
    store.add_verdict(warehouse, sid, "record:shop/1", "record:list/a", "accept", "admin@shop")
    matching.match_site(warehouse, sid, config(MATCH_LINK_WEIGHT=30.0), progress=lambda line: None)
    assert store.review_queue(warehouse, sid) == []
    assert person(warehouse, sid, "record:list/a") == person(warehouse, sid, "record:shop/1")
    # Undo: the pair is unmerged like any link, and stays apart at the next run.
    stitching.unmerge(warehouse, sid, "record:list/a", actor="admin@shop")
    matching.match_site(warehouse, sid, config(MATCH_LINK_WEIGHT=30.0), progress=lambda line: None)
    assert person(warehouse, sid, "record:list/a") != person(warehouse, sid, "record:shop/1")


def test_a_rejected_pair_is_never_linked(warehouse, site):
    sid = site["site_id"]
    put(warehouse, sid, "a", [{"source_id": "1", "first_name": "Ali", "last_name": "Rezaei", "phone": "09121111111"}])
    put(warehouse, sid, "b", [{"source_id": "2", "first_name": "Aly", "last_name": "Rezaie", "phone": "09121111111"}])
    matching.match_site(warehouse, sid, CONFIG, progress=lambda line: None)
    assert person(warehouse, sid, "record:a/1") == person(warehouse, sid, "record:b/2")
    store.add_verdict(warehouse, sid, "record:a/1", "record:b/2", "reject", "admin@shop")
    matching.match_site(warehouse, sid, CONFIG, progress=lambda line: None)
    assert person(warehouse, sid, "record:a/1") != person(warehouse, sid, "record:b/2")
