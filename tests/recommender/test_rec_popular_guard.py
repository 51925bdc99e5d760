"""Lists served to every visitor of a store (popular, trending, neighbours): a few fake events sent with
the public write key cannot put an id there (issue 19, item 3)."""

from recommender.index import Index, SiteModels
from recommender.jobs import run_catalog, run_context_popularity, run_popularity
from recommender.serving import Request, recommend
from tests.conftest import new_site
from tests.support.config import CONFIG, config
from tests.support.factories import recent as event
from warehouse.queries import events
from warehouse.queries import popularity as popularity_store


def test_models_serve_only_products_of_the_catalogue():
    """Fails on the old code: an id that only an event named was served next to real products."""
    models = SiteModels(
        catalog={"lamp": ("Home", 10.0), "bulb": ("Home", 2.0)},
        neighbors={"bought_together": {"lamp": [("<script>x</script>", 2.0), ("bulb", 1.0)]}},
        popularity={"overall": [("ghost", 9.0), ("bulb", 1.0)]},
    )
    answer = recommend(models, Request(context="cart", item_id="lamp", limit=5))
    assert [i["itemId"] for i in answer.items] == ["bulb"]


def test_popular_and_trending_need_distinct_visitors_of_real_products(warehouse):
    """Fails on the old code: three fake events put a <script> id in the trending list served to everyone."""
    site = new_site(warehouse)
    sid, script = site["site_id"], "<script>alert(1)</script>"
    rows = [event(sid, f"shopper-{n}", "Product Viewed", minutes_ago=60 + n, product_id="lamp") for n in range(6)]
    rows += [event(sid, f"fake-{n}", "Product Viewed", minutes_ago=30, product_id=script) for n in range(3)]
    rows += [event(sid, "one-bot-that-says-it-is-not", "Product Viewed", minutes_ago=n, product_id="spam")
             for n in range(50)]  # fmt: skip
    rows += [event(sid, f"ghost-buyer-{n}", "Order Completed", minutes_ago=20, item_ids=["ghost"], item_prices=[1.0],
                   item_quantities=[1]) for n in range(6)]  # fmt: skip
    events.insert_events(warehouse, rows)
    for job in (run_catalog, run_popularity):  # popularity writes the served lists (run_context_popularity) too
        job(warehouse, CONFIG, progress=lambda _m: None)
    index = Index(warehouse)
    index.refresh(force=True)
    lists = index.site(sid).popularity
    served = {context: [item for item, _ in pairs] for context, pairs in lists.items()}
    assert served["overall"] == ["lamp"] and served["trending"] == ["lamp"]
    counted = popularity_store.product_interactions(warehouse, min_visitors=CONFIG["REC_MIN_VISITORS"])
    mine = counted[counted["site_id"] == sid].set_index("item_id")
    assert script not in mine.index and "spam" not in mine.index and mine.loc["lamp", "views"] == 6
    # The threshold is a setting: with it at 1, the few events count again (but a non-product never does).
    run_context_popularity(warehouse, config(REC_MIN_VISITORS=1), progress=lambda _m: None)
    index.refresh(force=True)
    overall = [item for item, _ in index.site(sid).popularity["overall"]]
    assert script in overall and "spam" in overall and "ghost" not in overall
