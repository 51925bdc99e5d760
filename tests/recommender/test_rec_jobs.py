"""Mining jobs end to end on both backends: events in, versioned models out."""

import pytest

from mining import jobs
from recommender.index import Index
from recommender.serving import Request, recommend
from tests.support.config import CONFIG, only
from tests.support.factories import recent
from warehouse.queries import events
from warehouse.queries import recommendations as store


def run_all(warehouse, site_id):
    jobs.run_all(warehouse, only(site_id), progress=lambda _m: None)


@pytest.fixture
def shop(mined):
    """(warehouse, site id) of the module's mined store (tests/recommender/conftest.py): mining is the slow part."""
    warehouse, site = mined
    return warehouse, site["site_id"]


@pytest.mark.slow
def test_every_model_gets_a_new_version_per_run(shop):
    warehouse, mined = shop
    first = store.latest_versions(warehouse)
    models = {model for (site, model) in first if site == mined}
    assert models == {"rules", "cooccurrence", "sequential", "sessions", "person", "popularity"}
    jobs.BY_ID["rules"].run(warehouse, only(mined), progress=lambda _m: None)
    second = store.latest_versions(warehouse)
    assert second[(mined, "rules")] > first[(mined, "rules")]
    assert second[(mined, "sessions")] == first[(mined, "sessions")]


@pytest.mark.slow
def test_models_say_what_goes_together(shop):
    warehouse, mined = shop
    index = Index(warehouse)
    index.refresh(force=True)
    models = index.site(mined)
    together = dict(models.neighbors["bought_together"]["lamp"])
    assert together["bulb"] == pytest.approx(1.0)  # every lamp basket has a bulb
    assert "robot" not in together
    viewed = [item for item, _ in models.neighbors["also_viewed"]["robot"]]
    assert set(viewed[:2]) == {"battery", "kite"}
    assert "dusty" in models.out_of_stock
    assert models.catalog["lamp"][0] == "Home"
    assert models.sessions is not None and models.sessions.n_sessions >= 10


@pytest.mark.slow
def test_person_links_and_history_on_every_device(shop):
    warehouse, mined = shop
    links = store.person_links(warehouse)
    mine = links[links["site_id"] == mined].set_index("identity")["person_id"].to_dict()
    alice = mine["user:alice"]
    assert mine["anon:laptop-1"] == mine["anon:phone-1"] == alice
    index = Index(warehouse)
    index.refresh(force=True)
    assert index.person_of(mined, "laptop-1", "") == index.person_of(mined, "", "alice") == alice
    items = [item for item, _ in index.site(mined).person[alice]]
    # Lamp and shade were seen on the phone, the robot on the laptop.
    assert "bulb" in items and "battery" in items


@pytest.mark.slow
def test_serving_rules_filters_and_fallbacks(shop):
    warehouse, mined = shop
    index = Index(warehouse)
    index.refresh(force=True)
    models = index.site(mined)
    cart = recommend(models, Request(context="cart", item_id="lamp", limit=3))
    assert cart.strategy == "bought_together" and cart.items[0]["itemId"] == "bulb"
    session = [(0.0, "view", "robot"), (2.0, "purchase", "kite")]
    home = recommend(models, Request(context="home", session=session, limit=10, now=3.0))
    ids = [i["itemId"] for i in home.items]
    assert home.strategy == "session_knn" and ids[0] == "battery" and "kite" not in ids and "dusty" not in ids
    cold = recommend(models, Request(context="home", limit=5))
    assert cold.strategy in ("trending", "popular") and cold.items
    toys = recommend(models, Request(context="home", category="Toys", limit=10))
    assert toys.items and all(models.catalog[i["itemId"]][0] == "Toys" for i in toys.items)
    cheap = recommend(models, Request(context="home", max_price=11.0, limit=10))
    assert all(models.catalog[i["itemId"]][1] <= 11.0 for i in cheap.items)


@pytest.mark.slow
def test_stock_flag_set_by_hand_survives_the_catalog_job(shop):
    warehouse, mined = shop
    store.set_stock(warehouse, mined, "kite", True)  # kite: no later test of the shared store needs it in stock
    jobs.BY_ID["catalog"].run(warehouse, CONFIG, progress=lambda _m: None)
    catalog = store.catalog(warehouse, mined).set_index("item_id")
    assert catalog.loc["kite", "out_of_stock"] == 1 and catalog.loc["lamp", "out_of_stock"] == 0


def test_click_through_and_attributed_revenue(warehouse, site):
    site_id = site["site_id"]
    served = [
        {
            "site_id": site_id,
            "recommendation_id": rid,
            "served_at": 1_700_000_000 + i,
            "strategy": strategy,
            "context": "product",
            "model_version": 1,
            "anonymous_id": "v",
            "user_id": "",
            "item_ids": ["a", "b"],
        }
        for i, (rid, strategy) in enumerate([("r1", "session_knn"), ("r2", "session_knn"), ("r3", "popular")])
    ]
    import time

    for row in served:
        row["served_at"] = int(time.time()) - 3600
    store.write_served(warehouse, served)
    shown = [
        recent(site_id, "v", "Recommendation Shown", 50, props={"recommendation_id": r, "slot": "pdp"})
        for r in ("r1", "r2", "r3")
    ]
    click = recent(
        site_id, "v", "Recommendation Clicked", 40, props={"recommendation_id": "r1", "item_id": "a", "slot": "pdp"}
    )
    order = recent(
        site_id, "v", "Order Completed", 30, item_ids=["a", "z"], item_prices=[12.5, 3.0], item_quantities=[2, 1]
    )
    before = recent(site_id, "v", "Order Completed", 45, item_ids=["a"], item_prices=[99.0], item_quantities=[1])
    events.insert_events(warehouse, [*shown, click, order, before])
    rows = {(r["strategy"], r["slot"]): r for r in store.recommendation_performance(warehouse, site_id)}
    knn = rows[("session_knn", "pdp")]
    assert (knn["impressions"], knn["clicks"], knn["orders"]) == (2, 1, 1)
    assert knn["ctr"] == pytest.approx(0.5) and knn["revenue"] == pytest.approx(25.0)
    assert rows[("popular", "pdp")]["clicks"] == 0 and rows[("popular", "pdp")]["revenue"] == 0


def test_evaluations_are_stored_and_read_back(warehouse):
    rows = [
        {
            "strategy": s,
            "shipped": s == "stan",
            "hr@20": h,
            "mrr@20": h / 2,
            "coverage@20": 0.5,
            "popularity@20": 0.1,
            "predictions": 10,
            "seconds": 0.1,
        }
        for s, h in (("stan", 0.7), ("sknn", 0.6))
    ]
    store.write_evaluation(warehouse, "test", rows)
    latest = store.latest_evaluation(warehouse)
    assert [r["strategy"] for r in latest] == ["stan", "sknn"] and latest[0]["shipped"] == 1


@pytest.mark.slow
def test_a_shared_device_does_not_mix_two_customers_histories(warehouse, site):
    """Ann and then Bob sign in on one browser: each keeps their own history for recommendations."""
    from recommender.mining import with_person
    from tests.support.factories import recent, visit

    sid = site["site_id"]
    rows = [recent(sid, "shared", "", 310, type="identify", user_id="ann")]
    rows += visit(sid, "shared", ["lamp"], ["lamp"], 300, user_id="ann")
    rows += [recent(sid, "shared", "", 110, type="identify", user_id="bob")]
    rows += visit(sid, "shared", ["kite"], [], 100, user_id="bob")
    events.insert_events(warehouse, rows)
    run_all(warehouse, sid)
    history = with_person(store.interactions(warehouse), store.person_links(warehouse))
    history = history[history["site_id"] == sid]
    people = history.groupby("user_id")["person_id"].agg(set).to_dict()
    assert len(people["ann"]) == len(people["bob"]) == 1 and people["ann"] != people["bob"]
    index = Index(warehouse)
    index.refresh(force=True)
    assert {index.person_of(sid, "", "ann")} == people["ann"] and {index.person_of(sid, "", "bob")} == people["bob"]


@pytest.mark.slow
def test_a_sites_own_visits_are_evaluated_as_served(shop):
    from recommender.site_evaluation import evaluate_site

    warehouse, mined = shop
    rows, sizes = evaluate_site(warehouse, CONFIG, mined, test_days=0.1, progress=lambda _m: None)
    assert sizes["train_sessions"] == 10 and sizes["test_sessions"] == 1  # alice's phone: lamp, then shade
    served = {r["protocol"]: r for r in rows if r["shipped"]}
    assert served["next_item"]["predictions"] == 1 and served["next_item"]["hr@20"] == 1.0
    # a week of history is too little to split by a week: the weekly job says so and stores nothing
    assert jobs.BY_ID["rec_evaluation"].run(warehouse, only(mined), progress=lambda _m: None) == {}
