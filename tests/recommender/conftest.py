"""A store mined by every job, once per backend and module, and the endpoint over it."""

from __future__ import annotations

import pytest

from mining import jobs
from recommender import api
from tests.conftest import BACKENDS, new_site
from tests.support.config import only
from tests.support.factories import store_history
from warehouse.queries import events


@pytest.fixture(scope="module", params=BACKENDS)
def mined(request):
    """One mined store per backend for the whole module (mining is the slow part)."""
    warehouse = request.getfixturevalue(f"{request.param}_warehouse")
    site = new_site(warehouse, domains=["shop.example"])
    events.insert_events(warehouse, store_history(site["site_id"]))
    jobs.run_all(warehouse, only(site["site_id"]), progress=lambda _m: None)
    return warehouse, site


@pytest.fixture
def endpoint(mined, tmp_path):
    """(test client, endpoint state, site) of the recommendation app over the mined store."""
    warehouse, site = mined
    app = api.create_app({"SPOOL_DIR": str(tmp_path / "spool")}, warehouse=warehouse, start=False)
    return app.test_client(), app.extensions["basirat.recommender"], site
