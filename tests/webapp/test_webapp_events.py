"""Live events page and API tokens page: filters, pagination, links only for http(s), tokens per user."""

from __future__ import annotations

import datetime as dt

from tests.support.factories import row
from tests.support.webapp_helpers import make_app, make_user, post, signed_in
from warehouse.queries import api_tokens, events, users
from webapp.events import http_url, pretty


def test_only_absolute_http_urls_become_links():
    assert http_url("https://shop.example/p?q=1") == "https://shop.example/p?q=1"
    assert http_url("HTTP://shop.example") == "HTTP://shop.example"
    for value in [
        "javascript:alert(1)",
        " https://x.example",
        "//evil.example",
        "/relative",
        "data:text/html,x",
        "https:alert(1)",
        "http://[bad",
        "",
        "java\tscript:alert(1)",
        "https://x.example\n",
    ]:
        assert http_url(value) is None, value
    assert pretty('{"b": 1, "a": "<x>"}') == '{\n  "a": "<x>",\n  "b": 1\n}' and pretty("{}") == ""


def test_live_events_filters_and_pages(warehouse, site):
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    rows = [
        row(
            site["site_id"],
            now,
            message_id=f"m{n}",
            type="track" if n % 2 else "page",
            event="Cart Viewed" if n % 2 else "",
            url="https://shop.example/p" if n == 0 else "javascript:alert(1)",
            timestamp=now - dt.timedelta(minutes=n),
        )
        for n in range(55)
    ]
    events.insert_events(warehouse, rows)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [site["site_id"]]))
    url = f"/s/{site['site_id']}/events"
    first = client.get(url).get_data(as_text=True)
    assert "1–50 of 55" in first and first.count("<tr>") == 51
    assert '<a href="https://shop.example/p"' in first and 'href="javascript' not in first
    assert "javascript:alert(1)" in first  # shown, as text
    tracks = client.get(url + "?type=track&event=Cart+Viewed").get_data(as_text=True)
    assert "1–27 of 27" in tracks and "?page=2" not in tracks
    assert "No events match" in client.get(url + "?event=Nope").get_data(as_text=True)
    assert client.get(url + "?type=bogus&page=9").status_code == 200


def test_tokens_are_per_user(warehouse, site):
    app = make_app(warehouse)
    alice_email, password = make_user(warehouse, "analyst", [site["site_id"]])
    alice = signed_in(app, alice_email, password)
    created = post(alice, "/tokens", {"label": "report <script>"}, token_from="/tokens").get_data(as_text=True)
    assert 'id="token">bt_' in created and "report &lt;script&gt;" in created
    alice_id = users.find_by_email(warehouse, alice_email)["user_id"]
    (token,) = api_tokens.list_tokens(warehouse, alice_id)
    bob = signed_in(app, *make_user(warehouse, "admin"))
    assert token["token_id"] not in bob.get("/tokens").get_data(as_text=True)
    assert post(bob, f"/tokens/{token['token_id']}/revoke", token_from="/tokens").status_code == 404
    assert api_tokens.list_tokens(warehouse, alice_id)
    assert post(alice, f"/tokens/{token['token_id']}/revoke", token_from="/tokens").status_code == 302
    assert api_tokens.list_tokens(warehouse, alice_id) == []


def test_bots_are_marked_hidden_on_request_and_time_sorts_both_ways(warehouse, site):
    from collector.pipeline import _is_bot

    headless = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36"
    )
    assert _is_bot(headless) == 1 and _is_bot("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36") == 0
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    rows = [
        row(site["site_id"], now, message_id="human", type="page", timestamp=now - dt.timedelta(minutes=5)),
        row(site["site_id"], now, message_id="robot", type="page", is_bot=1, user_agent=headless, timestamp=now),
    ]
    events.insert_events(warehouse, rows)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [site["site_id"]]))
    url = f"/s/{site['site_id']}/events"
    page = client.get(url).get_data(as_text=True)
    assert page.count("data-bot") == 1 and ">bot</span>" in page and "HeadlessChrome" in page
    assert "data-bot" not in client.get(url + "?bots=hide").get_data(as_text=True)
    assert "1–1 of 1" in client.get(url + "?bots=only").get_data(as_text=True)
    newest, oldest = (
        client.get(url).get_data(as_text=True),
        client.get(url + "?sort=time&dir=asc").get_data(as_text=True),
    )
    human = '<tr>\n    <td class="muted nowrap">'
    assert newest.index("data-bot") < newest.index(human) and oldest.index(human) < oldest.index("data-bot")
