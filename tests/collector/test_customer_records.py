"""Customer records from files: presets, --map, joined address columns, bad lines, ids from content."""

import json
from pathlib import Path

import pytest

from collector.imports import ImportFailed, parse_customer_records, record_mapping
from tests.support.live import basirat

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


def test_shopify_customer_export():
    parsed = parse_customer_records(str(FIXTURES / "shopify_customers.csv"), record_mapping("shopify", {}))
    assert parsed.lines == 3 and parsed.bad == 1 and parsed.examples == ["line 4: no name, email or phone"]
    denis = parsed.rows[0]
    assert denis["source_id"] == "'7120334553386"
    assert (denis["first_name"], denis["last_name"], denis["phone"]) == ("Denis", "Lefèvre", "+33 6 12 34 56 78")
    assert denis["address"] == "12 rue de la Paix Apt 3" and denis["country"] == "FR"
    assert json.loads(denis["raw"])["Default Address City"] == "Paris"


def test_woocommerce_customers_and_a_full_name_column(tmp_path):
    parsed = parse_customer_records(str(FIXTURES / "woocommerce_customers.csv"), record_mapping("woocommerce", {}))
    assert [r["source_id"] for r in parsed.rows] == ["17", "18"]
    path = tmp_path / "calls.csv"
    path.write_text("Caller,Tel\nSara Ahmadi,0912 345 6789\nSara Ahmadi,0912 345 6789\n")
    parsed = parse_customer_records(str(path), record_mapping("custom", {"name": "Caller", "phone": "Tel"}))
    assert len(parsed.rows) == 1  # no id: one derived from the content, so a repeated line is one record
    row = parsed.rows[0]
    assert (row["first_name"], row["last_name"], row["source_id"][:1]) == ("Sara", "Ahmadi", "h")


def test_unknown_field_and_missing_column_are_clear_errors():
    with pytest.raises(ImportFailed, match="unknown field"):
        record_mapping("basirat", {"shoe_size": "Size"})
    with pytest.raises(ImportFailed, match="has no column 'Tel'"):
        parse_customer_records(str(FIXTURES / "woocommerce_customers.csv"), record_mapping("custom", {"phone": "Tel"}))


@pytest.mark.process
def test_cli_till_and_call_centre_end_as_one_person_and_reimport_updates(tmp_path):
    site_id = json.loads(basirat(tmp_path, "sites", "create", "Shop", "--json").stdout)["site_id"]
    till = tmp_path / "till.csv"
    till.write_text("source_id,first_name,last_name,phone\nT1,سارا,احمدي,0912 345 6789\nT2,Reza,Karimi,12\n")
    calls = tmp_path / "calls.csv"
    calls.write_text("ticket,who,tel,mail\n55,سارا احمدی,+98 912 3456789,sara@example.ir\n")
    args = ("import", "customers", "--site", site_id, "--region", "IR")
    first = basirat(tmp_path, *args, str(till), "--source", "till").stdout
    assert "2 new and 0 updated till records from 2 lines (1 with an invalid value kept raw: phone)" in first
    again = basirat(tmp_path, *args, str(till), "--source", "till").stdout
    assert "0 new and 2 updated till records" in again
    mapped = ("--map", "source_id=ticket", "--map", "name=who", "--map", "phone=tel", "--map", "email=mail")
    out = basirat(tmp_path, *args, str(calls), "--source", "call-centre", "--preset", "custom", *mapped).stdout
    assert "1 pairs linked" in out
    people = basirat(
        tmp_path,
        "sql",
        f"SELECT uniqExact(person_id) FROM identity_map FINAL WHERE site_id = '{site_id}' "
        "AND identity IN ('record:till/T1', 'record:call-centre/55')",
        "--format",
        "CSV",
    ).stdout.strip()
    assert people == "1"
    count = basirat(
        tmp_path, "sql", f"SELECT count() FROM customer_records FINAL WHERE site_id = '{site_id}'", "--format", "CSV"
    )
    assert count.stdout.strip() == "3"
    bad = basirat(tmp_path, *args, str(calls), "--source", "x", "--map", "shoe=who", check=False)
    assert bad.returncode == 1 and "unknown field(s) shoe" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.process
def test_cli_says_which_options_belong_to_which_import(tmp_path):
    site_id = json.loads(basirat(tmp_path, "sites", "create", "Shop", "--json").stdout)["site_id"]
    path = str(FIXTURES / "woocommerce_customers.csv")
    mixed = basirat(
        tmp_path, "import", "customers", path, "--site", site_id, "--source", "woo", "--web-ids", check=False
    )
    assert mixed.returncode == 1 and "--web-ids apply to the customer id/email import" in mixed.stderr
    bare = basirat(tmp_path, "import", "customers", path, "--site", site_id, "--preset", "woocommerce", check=False)
    assert bare.returncode == 1 and "--preset need --source NAME" in bare.stderr
    ok = basirat(tmp_path, "import", "customers", path, "--site", site_id, "--source", "woo", "--preset", "woocommerce")
    assert "2 new and 0 updated woo records from 2 lines (1 with an invalid value kept raw: phone)" in ok.stdout
