"""The admin's Recommendations page on both backends."""

import time

from tests.conftest import new_site
from tests.support.factories import recent
from tests.support.webapp_helpers import make_app, make_user, post, signed_in
from warehouse.queries import events, rec_experiments, rec_offline
from warehouse.queries import recommendations as store


def test_page_shows_click_through_revenue_and_evaluation(warehouse, site):
    site_id = site["site_id"]
    store.write_served(
        warehouse,
        [
            {
                "site_id": site_id,
                "recommendation_id": rid,
                "served_at": int(time.time()) - 600,
                "strategy": "session_knn",
                "context": "home",
                "model_version": 1,
                "anonymous_id": "v",
                "user_id": "",
                "item_ids": ["a"],
            }
            for rid in ("p1", "p2")
        ],
    )
    events.insert_events(
        warehouse,
        [
            recent(site_id, "v", "Recommendation Shown", 9, props={"recommendation_id": "p1", "slot": "home-hero"}),
            recent(site_id, "v", "Recommendation Shown", 9, props={"recommendation_id": "p2", "slot": "home-hero"}),
            recent(site_id, "v", "Recommendation Clicked", 8, props={"recommendation_id": "p1", "item_id": "a"}),
            recent(site_id, "v", "Order Completed", 5, item_ids=["a"], item_prices=[42.0], item_quantities=[1]),
            recent(site_id, "v", "Recommendation Shown", 9, props={"recommendation_id": "<script>x</script>"}),
        ],
    )
    row = {
        "protocol": "next_item",
        "strategy": "served (seen shown)",
        "shipped": True,
        "hr@20": 0.687,
        "hr@20_ci": [0.671, 0.702],
        "mrr@20": 0.356,
        "mrr@20_ci": [0.34, 0.37],
        "coverage@20": 0.9,
        "popularity@20": 0.2,
        "predictions": 10,
        "seconds": 1.0,
    }
    rec_offline.write_results(warehouse, site_id, "own sessions", [row], {"train_sessions": 812, "test_sessions": 93})
    rec_offline.write_results(warehouse, "", "yoochoose", [{**row, "hr@20": 0.555}], {"train_sessions": 17794})
    email, password = make_user(warehouse, "analyst", [site_id])
    client = signed_in(make_app(warehouse), email, password)
    page = client.get(f"/s/{site_id}/recommendations")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "session_knn" in html and "home-hero" in html and "50.0%" in html and "42.00" in html
    assert "0.687" in html and "[0.671, 0.702]" in html and "served" in html and "812" in html and "93 test" in html
    assert "0.555" in html and "yoochoose" in html
    assert "<script>x</script>" not in html


def test_an_admin_starts_and_stops_an_ab_test_from_the_page(warehouse, site):
    site_id = site["site_id"]
    url = f"/s/{site_id}/recommendations"
    email, password = make_user(warehouse, "admin", [site_id])
    client = signed_in(make_app(warehouse), email, password)
    assert 'data-form="start-experiment"' in client.get(url).get_data(as_text=True)
    refused = post(client, url + "/experiment", {"control": "served", "arms": ["served"]}, token_from=url)
    assert refused.status_code == 302 and rec_experiments.experiment(warehouse, site_id) is None
    post(client, url + "/experiment", {"control": "stan", "arms": ["served", "popular"], "name": ""}, token_from=url)
    running = rec_experiments.experiment(warehouse, site_id)
    assert running["name"] == "stan-vs-served-vs-popular" and list(running["arms"]) == ["stan", "served", "popular"]
    html = client.get(url).get_data(as_text=True)
    assert "running" in html and 'data-form="stop-experiment"' in html
    post(client, url + "/experiment/stop", token_from=url)
    assert int(rec_experiments.experiment(warehouse, site_id)["active"]) == 0
    assert 'data-form="stop-experiment"' not in client.get(url).get_data(as_text=True)


def test_ab_controls_are_for_admins_of_the_site_with_a_csrf_token(warehouse, site):
    site_id = site["site_id"]
    url = f"/s/{site_id}/recommendations"
    email, password = make_user(warehouse, "analyst", [site_id])
    analyst = signed_in(make_app(warehouse), email, password)
    assert 'data-form="start-experiment"' not in analyst.get(url).get_data(as_text=True)
    assert (
        post(analyst, url + "/experiment", {"control": "served", "arms": ["stan"]}, token_from=url).status_code == 403
    )
    email, password = make_user(warehouse, "admin", [new_site(warehouse)["site_id"]])
    stranger = signed_in(make_app(warehouse), email, password)
    answer = post(stranger, url + "/experiment", {"control": "served", "arms": ["stan"]}, token_from="/sites")
    assert answer.status_code in (403, 404)
    email, password = make_user(warehouse, "admin", [site_id])
    admin = signed_in(make_app(warehouse), email, password)
    assert admin.post(url + "/experiment", data={"control": "served", "arms": ["stan"]}).status_code == 400
    assert rec_experiments.experiment(warehouse, site_id) is None
