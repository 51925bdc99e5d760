"""Sign-in throttling: counted before the check, shared by workers, bounded, and never a lockout of the owner."""

from __future__ import annotations

import os
import threading
import time
import tracemalloc

from tests.support.webapp_helpers import csrf_token, make_app, make_user
from webapp import accounts
from webapp import throttle as throttle_module


def _login(client, email: str, password: str, token: str, ip: str = "127.0.0.1"):
    form = {"email": email, "password": password, "csrf_token": token}
    return client.post("/login", data=form, environ_base={"REMOTE_ADDR": ip})


def test_concurrent_wrong_passwords_are_counted_before_any_is_checked(chdb_warehouse, monkeypatch):
    """32 guesses at once: only the 5 allowed reach the password check (14 did when it counted after)."""
    app = make_app(chdb_warehouse)
    email, _ = make_user(chdb_warehouse, "analyst")
    checked, real = [], accounts.authenticate

    def slow_check(warehouse, email, password):
        checked.append(email)
        time.sleep(0.2)
        return real(warehouse, email, password)

    monkeypatch.setattr(accounts, "authenticate", slow_check)
    clients = [app.test_client() for _ in range(32)]
    tokens = [csrf_token(client) for client in clients]
    start, codes = threading.Barrier(32), []

    def guess(client, token):
        start.wait()
        codes.append(_login(client, email, "not the password!", token).status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) == 5
    assert sorted(codes) == [401] * 5 + [429] * 27


def test_guessing_from_elsewhere_never_keeps_the_owner_out(chdb_warehouse):
    app = make_app(chdb_warehouse)
    email, password = make_user(chdb_warehouse, "analyst")
    client = app.test_client()
    token = csrf_token(client)
    for _ in range(8):
        assert _login(client, email, "not the password!", token, ip="198.51.100.7").status_code in (401, 429)
    assert _login(client, email, password, token, ip="198.51.100.7").status_code == 429  # the guesser waits
    owner = app.test_client()
    assert _login(owner, email, password, csrf_token(owner), ip="192.0.2.1").status_code == 302


def test_the_wait_grows_with_each_failure_and_then_ends():
    now = [0.0]
    throttle = throttle_module.Throttle(per_account=5, per_ip=100, window=900, base_delay=30, clock=lambda: now[0])
    for _ in range(5):
        assert throttle.begin("owner@example.com", "10.0.0.1") == 0
    waits = []
    for _ in range(8):
        waits.append(throttle.begin("owner@example.com", "10.0.0.1"))
        now[0] += waits[-1]
        assert throttle.begin("owner@example.com", "10.0.0.1") == 0  # one more try, and it fails
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]
    now[0] += 900
    assert throttle.begin("owner@example.com", "10.0.0.1") == 0
    throttle.succeeded("owner@example.com", "10.0.0.1")
    assert [throttle.begin("owner@example.com", "10.0.0.1") for _ in range(5)] == [0] * 5


def test_one_address_is_capped_over_every_email_and_a_success_gives_its_attempt_back():
    now = [0.0]
    throttle = throttle_module.Throttle(per_account=5, per_ip=3, window=60, clock=lambda: now[0])
    assert throttle.begin("known@example.com", "10.0.0.1") == 0
    throttle.succeeded("known@example.com", "10.0.0.1")
    for n in range(3):
        assert throttle.begin(f"user{n}@example.com", "10.0.0.1") == 0
    assert throttle.begin("fresh@example.com", "10.0.0.1") > 0
    assert throttle.begin("fresh@example.com", "10.0.0.2") == 0
    now[0] = 61.0
    assert throttle.begin("fresh@example.com", "10.0.0.1") == 0


def test_memory_stays_fixed_however_many_emails_are_tried():
    """100k blocked emails took 161 MB when each had a list of its own."""
    throttle = throttle_module.Throttle(per_account=1, per_ip=10**9)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(20_000):
        throttle.failed(f"victim{n}@example.com", f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 256 * 1024
    assert throttle.retry_after("victim19999@example.com", "10.0.78.31") > 0  # the newest are there


def test_workers_forked_from_one_master_count_together():
    table = throttle_module.Table()
    child = os.fork()
    if child == 0:
        worker = throttle_module.Throttle(per_account=5, table=table)
        os._exit(0 if all(worker.begin("owner@example.com", "198.51.100.7") == 0 for _ in range(5)) else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    other_worker = throttle_module.Throttle(per_account=5, table=table)
    assert other_worker.begin("owner@example.com", "198.51.100.7") > 0


def test_the_admins_gunicorn_master_makes_the_table_its_workers_share(monkeypatch):
    monkeypatch.setattr("core.private.restrict", lambda config: None)  # not this test process's umask
    from basirat import gunicorn_conf

    monkeypatch.setattr(throttle_module, "_shared", None)
    gunicorn_conf.on_starting(None)
    assert throttle_module._shared is not None and throttle_module.Throttle().table is throttle_module._shared
