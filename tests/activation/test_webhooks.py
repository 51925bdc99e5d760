"""Segment webhooks against a real receiver on loopback: signed, validated, bounded."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from activation.webhooks import SIGNATURE_HEADER, WebhookOptions, WebhookRefused, deliver, validate_target, verify
from mining import jobs
from tests.support.config import only
from tests.support.factories import order, tracked
from warehouse.queries import events
from warehouse.queries import webhooks as store

FAST = WebhookOptions(allow_private=True, timeout=2.0, max_attempts=3, backoff=0.01)


class Receiver:
    """An HTTP server on 127.0.0.1 that records requests and answers from a script of statuses."""

    def __init__(self, statuses=(200,)):
        self.requests, self.statuses = [], list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://0.0.0.0/x",
    ],
)
def test_private_and_loopback_targets_are_refused_by_default(url):
    with pytest.raises(WebhookRefused, match="non-public"):
        validate_target(url)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http://user:pw@example.com/x", "file:///etc/passwd"])
def test_other_schemes_and_credentials_are_refused(url):
    with pytest.raises(WebhookRefused):
        validate_target(url, allow_private=True)


def test_without_the_setting_loopback_is_never_called():
    with Receiver() as receiver:
        result = deliver(receiver.url, "s", {"events": []}, WebhookOptions(allow_private=False))
    assert result["attempts"] == 0 and "non-public" in result["error"] and receiver.requests == []


def test_delivery_is_signed_and_verifiable():
    with Receiver() as receiver:
        result = deliver(receiver.url, "topsecret", {"id": "d1", "events": [{"a": 1}]}, FAST)
    assert result == {"status": 200, "attempts": 1, "error": ""}
    path, headers, body = receiver.requests[0]
    assert path == "/hook" and json.loads(body) == {"id": "d1", "events": [{"a": 1}]}
    assert verify("topsecret", headers[SIGNATURE_HEADER], body)
    assert not verify("wrong", headers[SIGNATURE_HEADER], body)
    assert not verify("topsecret", headers[SIGNATURE_HEADER], body + b" ")
    assert not verify("topsecret", headers[SIGNATURE_HEADER], body, now=dt.datetime.now().timestamp() + 3600)


def test_retries_are_bounded_and_redirects_refused():
    with Receiver([503, 500, 200]) as receiver:
        assert deliver(receiver.url, "s", {}, FAST) == {"status": 200, "attempts": 3, "error": ""}
    with Receiver([503]) as receiver:
        result = deliver(receiver.url, "s", {}, FAST)
        assert result["attempts"] == 3 and result["error"] == "HTTP 503" and len(receiver.requests) == 3
    with Receiver([302]) as receiver:
        result = deliver(receiver.url, "s", {}, FAST)
        assert result["error"] == "redirect refused" and [r[0] for r in receiver.requests] == ["/hook"]
    with Receiver([404]) as receiver:
        assert deliver(receiver.url, "s", {}, FAST)["attempts"] == 1


def test_segments_job_posts_entries_and_exits(warehouse, site):
    sid = site["site_id"]
    t0 = dt.datetime(2026, 3, 1, 9)
    events.insert_events(
        warehouse,
        [
            tracked(sid, t0, "Product Added", "shopper", product_id="p1", price=30.0),
            tracked(sid, t0 + dt.timedelta(hours=3), "Page Viewed", "someone"),
        ],
    )
    with Receiver() as receiver:
        hook = store.add_webhook(warehouse, sid, receiver.url, ["cart_abandoners"])
        jobs.run_segments(warehouse, only(sid), progress=lambda _: None, webhook_options=FAST)
        events.insert_events(warehouse, [order(sid, t0 + dt.timedelta(hours=4), "shopper", "o1", 30.0)])
        jobs.run_segments(warehouse, only(sid), progress=lambda _: None, webhook_options=FAST)
    sent = [json.loads(body)["events"] for _, _, body in receiver.requests]
    assert [[(e["type"], e["segment"], e["person_id"]) for e in batch] for batch in sent] == [
        [("segment.entered", "cart_abandoners", "shopper")],
        [("segment.left", "cart_abandoners", "shopper")],
    ]
    assert sent[0][0]["value"] == 30.0
    assert all(verify(hook["secret"], h[SIGNATURE_HEADER], b) for _, h, b in receiver.requests)
    delivered = warehouse.query(
        "SELECT status FROM webhook_deliveries WHERE site_id = {site_id:String}", {"site_id": sid}
    )
    assert len(delivered) == 2 and {d["status"] for d in delivered} == {200}


@pytest.mark.process
def test_cli_refuses_a_loopback_target_in_one_line(tmp_path):
    from tests.support.live import basirat

    result = basirat(tmp_path, "webhooks", "add", "http://127.0.0.1:9/x", "--site", "s_x", check=False)
    assert result.returncode == 1 and "non-public address 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
