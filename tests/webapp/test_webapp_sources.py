"""The customers pages: sources with counts, the review queue side by side, verdicts, the profile's records."""

import pandas as pd

from matching.standardise import standardise
from mining import matching
from tests.conftest import new_site
from tests.support.config import config
from tests.support.webapp_helpers import make_app, make_user, post, signed_in
from warehouse.queries import identity as ids
from warehouse.queries import matching as store

STRICT = config(MATCH_LINK_WEIGHT=30.0)  # nothing links by weight alone: the pair waits for review


def put(warehouse, site_id, source, rows):
    frame = standardise(pd.DataFrame(rows), "GB")
    frame.insert(0, "site_id", site_id)
    frame.insert(1, "source", source)
    frame["verified"], frame["raw"] = True, "{}"
    store.write_records(warehouse, frame)


def queued_site(warehouse):
    sid = new_site(warehouse)["site_id"]
    put(warehouse, sid, "shop", [{"source_id": "1", "first_name": "John", "last_name": "Smith", "city": "Leeds"}])
    put(
        warehouse,
        sid,
        "till",
        [{"source_id": "9", "first_name": "Jon", "last_name": "Smith", "city": "Leeds", "phone": "020 7946 0018"}],
    )
    matching.match_site(warehouse, sid, STRICT, progress=lambda line: None)
    return sid


def test_sources_queue_and_an_accepted_pair_on_the_profile(chdb_warehouse):
    warehouse = chdb_warehouse
    sid = queued_site(warehouse)
    app = make_app(warehouse, MATCH_LINK_WEIGHT=30.0)
    client = signed_in(app, *make_user(warehouse, "admin", [sid]))
    page = client.get(f"/s/{sid}/sources").get_data(as_text=True)
    assert "shop" in page and "till" in page and "Review queue (1)" in page
    page = client.get(f"/s/{sid}/sources/review").get_data(as_text=True)
    assert "record:shop/1" in page and "record:till/9" in page
    assert 'class="field-agree"' in page and 'class="field-close"' in page  # surname agrees, first name close
    answer = post(
        client,
        f"/s/{sid}/sources/review",
        {"a": "record:till/9", "b": "record:shop/1", "verdict": "accept"},
        token_from=f"/s/{sid}/sources",
    )
    assert answer.status_code == 302
    assert store.review_queue(warehouse, sid) == []
    person = ids.person_of(warehouse, sid, "record:shop/1")
    assert person == ids.person_of(warehouse, sid, "record:till/9")
    page = client.get(f"/s/{sid}/people/{person}").get_data(as_text=True)
    assert "Source records" in page and "+442079460018" in page and "review" in page


def test_an_analyst_cannot_decide_nor_anyone_on_another_site_or_an_unknown_pair(chdb_warehouse):
    warehouse = chdb_warehouse
    sid, other = queued_site(warehouse), queued_site(warehouse)
    app = make_app(warehouse)
    analyst = signed_in(app, *make_user(warehouse, "analyst", [sid]))
    form = {"a": "record:shop/1", "b": "record:till/9", "verdict": "reject"}
    assert analyst.get(f"/s/{sid}/sources/review").status_code == 200
    assert post(analyst, f"/s/{sid}/sources/review", form, token_from=f"/s/{sid}/sources").status_code == 403
    admin = signed_in(app, *make_user(warehouse, "admin", [sid]))
    assert admin.get(f"/s/{other}/sources").status_code == 403
    missing = {**form, "a": "record:shop/404"}
    assert post(admin, f"/s/{sid}/sources/review", missing, token_from=f"/s/{sid}/sources").status_code == 404
    assert (
        post(
            admin, f"/s/{sid}/sources/review", {**form, "verdict": "maybe"}, token_from=f"/s/{sid}/sources"
        ).status_code
        == 400
    )
    assert len(store.review_queue(warehouse, sid)) == 1
