"""The admin's Recommendations page on both backends."""

import time

from tests.support.factories import recent
from tests.support.webapp_helpers import make_app, make_user, signed_in
from warehouse.queries import events, rec_offline
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
