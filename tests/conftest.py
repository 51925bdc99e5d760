"""Fixtures: both warehouse backends, real and on loopback, and the markers they imply.

The embedded backend is one chDB folder for the whole run (chDB allows one
folder per process); the server backend is Debian's clickhouse-server started
for the run. Tests isolate by creating their own site, never by truncating.

Markers (declared in pyproject.toml) are set here from the fixtures a test
uses: ``server`` for a ClickHouse server or the cluster (including the server
side of a fixture parametrized over BACKENDS), ``browser`` for Chromium.
Tests that start programs (``process``) or take tens of seconds (``slow``)
say so themselves: ``pytestmark`` for a whole module, a decorator otherwise.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.support.cluster import ClickHouseCluster, zookeeper_available
from tests.support.servers import ClickHouseServer, server_binary
from warehouse import connect
from warehouse.engine.migrate import migrate
from warehouse.queries import sites

IN_CI = os.environ.get("CI", "").lower() == "true"
# CLUSTER_TESTS=1 (`make test-cluster`): the server backend is a ZooKeeper-backed
# cluster of Debian servers, and the cluster's own tests are collected.
CLUSTER = os.environ.get("CLUSTER_TESTS", "") not in ("", "0")
BACKENDS = ["server"] if CLUSTER else ["chdb", "server"]
collect_ignore = [] if CLUSTER else ["warehouse/test_cluster.py"]


def require(condition: bool, what: str) -> None:
    """Skip when a component is missing, except in CI, where it is a failure."""
    if not condition:
        if IN_CI:
            pytest.fail(f"{what} is required in CI (CI=true) but is missing", pytrace=False)
        pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def clickhouse_server(request, tmp_path_factory):
    require(server_binary() is not None, "clickhouse-server")
    if CLUSTER:
        # The server backend is the cluster: a test reaching "the server" by
        # URL (a CLI subprocess) gets its first node, where the same tables are.
        yield request.getfixturevalue("clickhouse_cluster").nodes[0]
        return
    server = ClickHouseServer(tmp_path_factory.mktemp("clickhouse")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chdb_warehouse(tmp_path_factory):
    wh = connect("chdb://" + str(tmp_path_factory.mktemp("chdb")))
    migrate(wh)
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def clickhouse_cluster(tmp_path_factory):
    require(server_binary() is not None, "clickhouse-server")
    require(zookeeper_available(), "zookeeper (/usr/share/zookeeper)")
    cluster = ClickHouseCluster(tmp_path_factory.mktemp("cluster")).start()
    _running_clusters.append(cluster)
    yield cluster
    _running_clusters.remove(cluster)
    cluster.stop()


_running_clusters: list[ClickHouseCluster] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test on the cluster reports every node's state beside its traceback."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and _running_clusters:
        report.sections.append(("cluster", _running_clusters[-1].describe()))


@pytest.fixture(scope="session")
def server_warehouse(request):
    if CLUSTER:
        cluster = request.getfixturevalue("clickhouse_cluster")
        wh = connect(cluster.url(0), cluster=cluster.name)
    else:
        wh = connect(request.getfixturevalue("clickhouse_server").url)
    migrate(wh)
    yield wh
    wh.close()


@pytest.fixture(params=BACKENDS)
def warehouse(request):
    return request.getfixturevalue(f"{request.param}_warehouse")


def new_site(warehouse, **kwargs) -> dict:
    return sites.create_site(warehouse, f"test-{uuid.uuid4().hex[:8]}", **kwargs)


@pytest.fixture
def site(warehouse):
    return new_site(warehouse, domains=["shop.example"])


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashing():
    """Argon2id at its cheapest inside this process: the admin's own parameters take ~0.4 s a hash
    on two cores, and the admin tests hash and verify hundreds of passwords. Processes the tests
    start (``basirat users``, ``basirat serve``) keep the real parameters."""
    from argon2 import PasswordHasher

    from webapp import accounts

    quick = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", quick)
        patch.setattr(accounts, "_DUMMY", quick.hash("not anyone's password"))
        yield


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the run; each test opens its own context."""
    from tests.support.browser import CHROMIUM, FLAGS, chromium_available

    require(chromium_available(), "chromium (/usr/bin/chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


SERVER_FIXTURES = {"clickhouse_server", "clickhouse_cluster", "server_warehouse"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if uses_server(item):
            item.add_marker(pytest.mark.server)
        if "browser" in item.fixturenames:
            item.add_marker(pytest.mark.browser)


def uses_server(item) -> bool:
    """A server fixture, or a fixture parametrized over BACKENDS (``warehouse``, ``mined``) set to the server."""
    if SERVER_FIXTURES & set(item.fixturenames):
        return True
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return False
    definitions = item._fixtureinfo.name2fixturedefs
    return any(
        value == "server" and any(list(d.params or ()) == BACKENDS for d in definitions.get(name, ()))
        for name, value in callspec.params.items()
    )
