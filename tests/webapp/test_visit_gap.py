"""One definition of a visit: SESSION_TIMEOUT_MINUTES cuts visits alike in the sessions job, the KPI
queries and the KPI page, for rows the rollup kept at any gap of a minute or more."""

from __future__ import annotations

from flask import template_rendered

from mining.sessions import sessionize_site
from tests.support.factories import T0, event, load
from tests.support.webapp_helpers import make_app, make_user, signed_in
from warehouse.queries import kpis, sessions


def page_sessions(warehouse, site_id: str, minutes: int) -> float:
    """The sessions the KPI page draws for T0's day, served with SESSION_TIMEOUT_MINUTES=minutes."""
    app = make_app(warehouse, SESSION_TIMEOUT_MINUTES=minutes)
    client = signed_in(app, *make_user(warehouse, "admin"))
    drawn = []
    with template_rendered.connected_to(lambda _app, template, context, **_: drawn.append(context), app):
        day = T0.date().isoformat()
        assert client.get(f"/s/{site_id}/kpis?from={day}&to={day}").status_code == 200
    chart = next(c["traffic_chart"] for c in drawn if "traffic_chart" in c)
    return sum(next(s["values"] for s in chart["series"] if s["label"] == "Sessions"))


def test_two_events_fifteen_minutes_apart_are_two_visits_at_ten(warehouse, site):
    sid = site["site_id"]
    load(warehouse, [event(sid, 0), event(sid, 15)])
    day = T0.date()

    sessionize_site(warehouse, sid, timeout_minutes=10, full=True)
    assert len(sessions.visits(warehouse, sid, ["a1"])) == 2
    assert kpis.sessions(warehouse, sid, day, day, timeout_minutes=10)["sessions"].tolist() == [2]
    assert page_sessions(warehouse, sid, 10) == 2

    sessionize_site(warehouse, sid, timeout_minutes=30, full=True)
    assert len(sessions.visits(warehouse, sid, ["a1"])) == 1
    assert kpis.sessions(warehouse, sid, day, day, timeout_minutes=30)["sessions"].tolist() == [1]
    assert page_sessions(warehouse, sid, 30) == 1
