"""``basirat backup`` / ``restore`` of the embedded folder, as a user runs them."""

import json
import tarfile

import pytest

from tests.support.live import LiveServer, basirat

pytestmark = pytest.mark.process


def site_names(data) -> list[str]:
    return [s["name"] for s in json.loads(basirat(data, "sites", "list", "--json").stdout)]


def test_backup_then_restore_elsewhere_brings_the_data_back(tmp_path):
    data, archive, copy = tmp_path / "data", tmp_path / "shop.tar.gz", tmp_path / "copy"
    basirat(data, "sites", "create", "Backed up store")
    (data / "spool").mkdir(exist_ok=True)
    (data / "spool" / "00000001.seg").write_bytes(b"unloaded events")
    done = basirat(data, "backup", str(archive))
    assert "backed up" in done.stdout and archive.is_file()
    with tarfile.open(archive) as opened:
        names = opened.getnames()
    assert "spool/00000001.seg" in names and not any(n.endswith(("basirat.sock", "/status")) for n in names)

    assert "restored" in basirat(copy, "restore", str(archive)).stdout
    assert site_names(copy) == ["Backed up store"]
    assert (copy / "spool" / "00000001.seg").read_bytes() == b"unloaded events"

    refused = basirat(copy, "restore", str(archive), check=False)
    assert refused.returncode == 1 and "--force" in refused.stderr and "Traceback" not in refused.stderr
    basirat(copy, "sites", "create", "Added after")
    assert "restored" in basirat(copy, "restore", str(archive), "--force").stdout
    assert site_names(copy) == ["Backed up store"]
    assert list(tmp_path.glob("copy/warehouse.before-restore-*"))


def test_backup_refuses_clearly_while_serve_owns_the_folder(tmp_path):
    server = LiveServer(tmp_path / "data").start()
    try:
        refused = basirat(server.data, "backup", str(tmp_path / "b.tar.gz"), check=False)
    finally:
        server.stop()
    assert refused.returncode == 1
    assert "basirat serve is running" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "b.tar.gz").exists()
    assert "backed up" in basirat(server.data, "backup", str(tmp_path / "b.tar.gz")).stdout


def test_bad_archives_and_server_warehouses_get_one_line_errors(tmp_path):
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    bad = basirat(tmp_path / "d", "restore", str(tmp_path / "junk.tar.gz"), check=False)
    assert bad.returncode == 1 and "not a Basirat backup" in bad.stderr and "Traceback" not in bad.stderr
    server = basirat(
        tmp_path / "d", "--warehouse", "clickhouse://127.0.0.1:9/x", "backup", str(tmp_path / "x.tgz"), check=False
    )
    assert server.returncode == 1 and "embedded warehouse" in server.stderr
