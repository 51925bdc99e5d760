"""Offline orders and customers from files: mapping, bad lines, linking, re-import."""

import datetime as dt

import pytest

from collector.imports import ImportFailed, mapping_for, parse_orders
from tests.support.datasets import find_data
from tests.support.live import basirat

NOW = dt.datetime(2026, 5, 1)


@pytest.fixture(scope="module")
def retail_slice(tmp_path_factory):
    lines = find_data("online_retail/france.csv").read_text().splitlines()
    path = tmp_path_factory.mktemp("retail") / "france.csv"
    # The header, the first 40 lines, and lines around the first rows with no customer id.
    path.write_text("\n".join(lines[:41] + lines[3465:3475]) + "\n")
    return path


@pytest.fixture(scope="module")
def cdnow_slice(tmp_path_factory):
    lines = find_data("cdnow/CDNOW_master.txt").read_text().splitlines()
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.txt"
    path.write_text("\n".join(lines[:30]) + "\n 00099 1997xx01  1 3.00\n")
    return path


def test_online_retail_invoices_become_one_order_each(retail_slice):
    parsed = parse_orders(str(retail_slice), mapping_for("online_retail", {}, currency="GBP"), "s1", NOW)
    assert parsed.bad == 7 and parsed.examples[0].startswith("line 45: no customer id or email")
    first = parsed.rows[0]
    assert first["event"] == "Order Completed" and first["order_id"] == "536370"
    assert first["user_id"] == "12583" and first["flags"] == ["imported"] and first["currency"] == "GBP"
    assert len(first["item_ids"]) == 20 and first["revenue"] == pytest.approx(855.86)
    assert first["timestamp"] == dt.datetime(2010, 12, 1, 8, 45)


def test_cdnow_layout_and_bad_lines(cdnow_slice):
    parsed = parse_orders(str(cdnow_slice), mapping_for("cdnow", {}, channel="mail"), "s1", NOW)
    assert parsed.lines == 30 and parsed.bad == 1 and parsed.examples == ["line 31: date is not a date"]
    assert len(parsed.rows) == 29
    assert {r["utm_source"] for r in parsed.rows} == {"mail"}
    assert parsed.rows[0]["user_id"] == "00001" and parsed.rows[0]["revenue"] == 11.77


def test_missing_column_is_one_clear_error(retail_slice):
    with pytest.raises(ImportFailed, match="no column 'Email'"):
        parse_orders(str(retail_slice), mapping_for("online_retail", {"email": "Email"}), "s1", NOW)


@pytest.mark.process
def test_cli_imports_once_and_reports_bad_lines(clickhouse_server, tmp_path, retail_slice):
    url = clickhouse_server.url
    site = basirat(tmp_path, "--warehouse", url, "sites", "create", "Till", "--json").stdout
    site_id = __import__("json").loads(site)["site_id"]
    args = ("--warehouse", url, "import", "orders", str(retail_slice), "--site", site_id)
    first = basirat(tmp_path, *args)
    assert "4 orders imported (0 already there) from 50 lines" in first.stdout
    assert "7 of 50 lines are bad; first ones:" in first.stderr and "line 45: no customer id" in first.stderr
    again = basirat(tmp_path, *args)
    assert "0 orders imported (4 already there)" in again.stdout
    strict = basirat(tmp_path, *args, "--strict", check=False)
    assert strict.returncode == 1 and "nothing imported (--strict)" in strict.stderr
    bad = basirat(
        tmp_path,
        "--warehouse",
        url,
        "import",
        "orders",
        str(retail_slice),
        "--site",
        site_id,
        "--map",
        "colour=X",
        check=False,
    )
    assert bad.returncode == 1 and "unknown field(s) colour" in bad.stderr and "Traceback" not in bad.stderr
