"""Product audiences: hand-checked ranking, and the CLI exports on a real warehouse."""

import datetime as dt

import pandas as pd
import pytest

from activation.export import to_csv
from mining import audience
from tests.support.factories import order, tracked
from warehouse.queries import events

AS_OF = pd.Timestamp("2026-03-31")


def rows(*items):
    return pd.DataFrame(
        [{"person_id": p, "item_id": i, "kind": k, "last_at": AS_OF - pd.Timedelta(days=d)} for p, i, k, d in items]
    )


def test_confidence_is_the_shrunk_share_of_item_people_who_bought_the_product():
    frame = rows(("a", "mug", "order", 1), ("a", "tea", "order", 1), ("b", "mug", "view", 1), ("c", "tea", "view", 1))
    conf = audience.rule_confidence(frame, "tea")
    assert conf["mug"] == pytest.approx(1 / (2 + audience.SHRINK))


def test_audience_ranks_associated_and_interested_people_and_skips_buyers():
    frame = rows(
        ("buyer1", "mug", "order", 5),
        ("buyer1", "tea", "order", 5),
        ("buyer2", "mug", "view", 5),
        ("buyer2", "tea", "order", 5),
        ("mug_fan", "mug", "cart", 0),  # associated item, carted today
        ("old_mug_fan", "mug", "cart", 60),  # same, two half-lives ago
        ("tea_looker", "tea", "view", 0),  # looked at the product itself
        ("stranger", "spoon", "view", 0),
    )
    out = audience.product_audience(frame, "tea", AS_OF)
    scores = dict(zip(out["person_id"], out["score"]))
    conf = 2 / (4 + audience.SHRINK)
    assert scores["mug_fan"] == pytest.approx(conf * 2.0)
    assert scores["old_mug_fan"] == pytest.approx(conf * 2.0 / 4)
    assert scores["tea_looker"] == pytest.approx(1.0)
    assert "buyer1" not in scores and "buyer2" not in scores and "stranger" not in scores
    assert out["person_id"].tolist() == ["tea_looker", "mug_fan", "old_mug_fan"]
    assert out["because_of"].tolist() == ["tea", "mug", "mug"]


@pytest.mark.parametrize("items", [[("a", "mug", "view", 1), ("b", "tea", "cart", 2)], []])
def test_audience_of_a_product_nobody_knows_is_empty(items):
    frame = rows(*items) if items else rows(("a", "mug", "view", 1)).iloc[0:0]
    frame = frame.astype({"person_id": "string", "item_id": "string", "kind": "string"})  # as read from the warehouse
    assert audience.product_audience(frame, "no-such-product", AS_OF).empty


def test_csv_defuses_formulas():
    text = to_csv(pd.DataFrame({"person_id": ["=HYPERLINK(1)", "ok"], "value": [1.5, 2.0]}))
    assert text == "person_id,value\n'=HYPERLINK(1),1.5\nok,2\n"


def test_audience_from_the_warehouse(warehouse, site):
    sid = site["site_id"]
    t0 = dt.datetime(2026, 3, 1)
    events.insert_events(
        warehouse,
        [
            order(sid, t0, "b1", "o1", 10.0, items=("mug", "tea")),
            order(sid, t0, "b2", "o2", 10.0, items=("mug", "tea")),
            tracked(sid, t0 + dt.timedelta(days=1), "Product Added", "fan", product_id="mug", price=5.0),
            tracked(sid, t0 + dt.timedelta(days=1), "Product Viewed", "other", product_id="spoon"),
        ],
    )
    out = audience.site_audience(warehouse, sid, "tea")
    assert out["person_id"].tolist() == ["fan"] and out["because_of"].tolist() == ["mug"]


@pytest.mark.process
def test_cli_exports_segments_and_audiences(clickhouse_server, server_warehouse, tmp_path):
    from tests.conftest import new_site
    from tests.support.live import basirat

    sid = new_site(server_warehouse)["site_id"]
    t0 = dt.datetime(2026, 3, 1)
    events.insert_events(
        server_warehouse,
        [
            order(sid, t0, "b1", "o1", 10.0, items=("mug", "tea")),
            order(sid, t0 + dt.timedelta(days=3), "b1", "o2", 12.0, items=("mug",)),
            tracked(sid, t0 + dt.timedelta(days=4), "Product Added", "=cmd", product_id="mug", price=5.0),
            tracked(sid, t0 + dt.timedelta(days=5), "Page Viewed", "someone"),
        ],
    )
    url = ("--warehouse", clickhouse_server.url)
    basirat(tmp_path, *url, "jobs", "run", "segments")
    listed = basirat(tmp_path, *url, "segments", "list", "--site", sid).stdout
    assert "repeat_buyers" in listed and "cart_abandoners" in listed
    exported = basirat(tmp_path, *url, "segments", "export", "cart_abandoners", "--site", sid).stdout
    assert exported.splitlines() == [
        "person_id,entered_at,value",
        f"'=cmd,{exported.splitlines()[1].split(',')[1]},5",
    ]
    found = basirat(tmp_path, *url, "segments", "audience", "tea", "--site", sid).stdout.splitlines()
    assert found[0] == "person_id,score,because_of,last_interaction" and found[1].startswith("'=cmd,")
    missing = basirat(tmp_path, *url, "segments", "export", "nobody", "--site", sid, check=False)
    assert missing.returncode == 1 and "no members" in missing.stderr and "Traceback" not in missing.stderr
