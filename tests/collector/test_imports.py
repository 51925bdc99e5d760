"""Offline orders and customers from files: mapping, bad lines, linking, re-import."""

import datetime as dt
import json
from pathlib import Path

import pytest

from collector.imports import PRESETS, ImportFailed, mapping_for, parse_orders
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
    assert parsed.bad == 7 and parsed.examples[0].startswith("line 45: no customer id, email or phone")
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


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


def test_shopify_export_one_order_per_name_with_email_phone_currency_and_refunds():
    parsed = parse_orders(str(FIXTURES / "shopify_orders.csv"), mapping_for("shopify", {}), "s1", NOW)
    assert parsed.lines == 5 and parsed.bad == 1 and parsed.examples == ["line 6: no customer id, email or phone"]
    first, refund, till = parsed.rows
    assert (first["event"], first["order_id"], first["currency"]) == ("Order Completed", "#1001", "EUR")
    assert first["item_ids"] == ["OBS-M", "TOTE"] and first["item_quantities"] == [2, 1]
    assert first["revenue"] == 59.90  # the order's Total, stated on its first line only
    assert first["timestamp"] == dt.datetime(2026, 11, 2, 9, 14, 41)  # +01:00 to UTC
    assert json.loads(first["traits"]) == {"email": "ann@example.com", "phone": "+353 1 555 0101"}
    assert refund["event"] == "Order Refunded" and refund["revenue"] == 25.0
    assert json.loads(till["traits"]) == {"phone": "+353 86 555 0199"} and till["anonymous_id"].startswith("imported-")


def test_woocommerce_export_repeats_order_fields_on_every_product_row():
    parsed = parse_orders(str(FIXTURES / "woocommerce_orders.csv"), mapping_for("woocommerce", {}), "s1", NOW)
    assert parsed.bad == 0 and [r["order_id"] for r in parsed.rows] == ["2041", "2042", "2043"]
    first, refund, later = parsed.rows
    assert first["revenue"] == 36.0 and first["item_ids"] == ["woo-beanie", "woo-belt"]
    assert refund["event"] == "Order Refunded" and later["event"] == "Order Completed"
    assert json.loads(later["traits"]) == {"email": "denis@example.fr", "phone": "06 12 34 56 78"}
    assert first["timestamp"] == dt.datetime(2026, 10, 30, 14, 5)


@pytest.mark.process
@pytest.mark.parametrize(
    "preset, file, orders", [("shopify", "shopify_orders.csv", 3), ("woocommerce", "woocommerce_orders.csv", 3)]
)
def test_platform_exports_import_twice_with_no_duplicates(tmp_path, preset, file, orders):
    assert preset in PRESETS
    site_id = json.loads(basirat(tmp_path, "sites", "create", preset, "--json").stdout)["site_id"]
    args = ("import", "orders", str(FIXTURES / file), "--site", site_id, "--preset", preset)
    assert f"{orders} orders imported (0 already there)" in basirat(tmp_path, *args).stdout
    assert f"0 orders imported ({orders} already there)" in basirat(tmp_path, *args).stdout
    count = basirat(tmp_path, "sql", f"SELECT count() FROM events WHERE site_id = '{site_id}'", "--format", "CSV")
    assert count.stdout.strip() == str(orders)
