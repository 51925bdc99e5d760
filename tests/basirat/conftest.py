"""The collector app the demo's history is sent through, over the test's warehouse."""

import pytest

import collector


@pytest.fixture
def app(warehouse, tmp_path):
    app = collector.create_app({"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool")}, warehouse=warehouse)
    yield app
    app.extensions["basirat.collector"].spool.close()
