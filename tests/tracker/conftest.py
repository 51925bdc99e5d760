"""The live demo shop the tracker's browser tests click through."""

from __future__ import annotations

import json

import pytest

from tests.support.live import LiveServer, basirat


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """``basirat serve`` with the demo store mounted and its site created for 127.0.0.1."""
    data = tmp_path_factory.mktemp("shop")
    site = json.loads(basirat(data, "sites", "create", "Demo store", "--domain", "127.0.0.1", "--json").stdout)
    live = LiveServer(data, env={"BASIRAT_STOREFRONT": "true"}).start()
    live.site = site
    yield live
    live.stop()
