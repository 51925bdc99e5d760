"""The memory and thread settings reach the connection `basirat jobs run` opens (``core.connect``)."""

import pytest

from core import connect
from core.settings import SettingsError, clickhouse_settings, load
from tests.support.config import config

NAMES = ("max_bytes_before_external_group_by", "max_bytes_before_external_sort", "max_memory_usage", "max_threads")
# ClickHouse's own defaults, for the one embedded session the test run shares.
DEFAULTS = dict.fromkeys(NAMES, 0)


def test_the_defaults_spill_and_set_no_limit_or_threads():
    assert clickhouse_settings(load(environ={})) == {
        "max_bytes_before_external_group_by": 400 << 20,
        "max_bytes_before_external_sort": 400 << 20,
    }
    assert clickhouse_settings(load({"CLICKHOUSE_SPILL_MB": 0}, environ={})) == {}


def test_a_negative_size_stops_with_a_clear_message():
    with pytest.raises(SettingsError, match="BASIRAT_CLICKHOUSE_SPILL_MB"):
        load(environ={"BASIRAT_CLICKHOUSE_SPILL_MB": "-1"})


def test_the_jobs_connection_runs_with_the_memory_settings(warehouse):
    chosen = config(
        WAREHOUSE_URL=warehouse.url,
        CLICKHOUSE_CLUSTER=warehouse.cluster,
        CLICKHOUSE_SPILL_MB=64,
        CLICKHOUSE_QUERY_MEMORY_MB=3072,
        CLICKHOUSE_THREADS=1,
    )
    jobs_warehouse = connect(chosen)
    try:
        rows = jobs_warehouse.query(
            "SELECT name, value FROM system.settings WHERE name IN (SELECT arrayJoin({names:Array(String)}))",
            {"names": list(NAMES)},
        )
    finally:
        if jobs_warehouse is warehouse:  # the embedded session is the run's one: back to ClickHouse's defaults
            warehouse.apply(DEFAULTS)
        else:
            jobs_warehouse.close()
    assert {row["name"]: int(row["value"]) for row in rows} == {
        "max_bytes_before_external_group_by": 64 << 20,
        "max_bytes_before_external_sort": 64 << 20,
        "max_memory_usage": 3072 << 20,
        "max_threads": 1,
    }
