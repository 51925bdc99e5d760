"""The data folder (keys, webhook secrets, password hashes, events) is private: files 0600, folders 0700."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from collector.spool import Spool
from tests.support.live import basirat


def open_to_others(folder: Path) -> list[str]:
    """Everything under ``folder`` (itself included) that group or others may read or enter."""
    found = []
    for path in [folder, *folder.rglob("*")]:
        mode = os.lstat(path).st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(folder.parent)} {stat.filemode(mode)}")
    return found


@pytest.mark.process
def test_what_the_basirat_command_writes_is_private(tmp_path):
    data = tmp_path / "shop"
    basirat(data, "sites", "create", "Shop", "--domain", "shop.example")
    basirat(data, "users", "create", "owner@shop.example", "--role", "admin")
    assert open_to_others(data) == []


@pytest.mark.process
def test_files_an_older_version_left_open_are_made_private(tmp_path):
    data = tmp_path / "shop"
    (data / "spool" / "metrics").mkdir(parents=True)
    for path in [data / "spool" / "1-1.seg", data / "spool" / "keys.json", data / "secret_key"]:
        path.write_text("x")
        path.chmod(0o644)
    for folder in [data, data / "spool", data / "spool" / "metrics"]:
        folder.chmod(0o755)
    basirat(data, "settings")
    assert open_to_others(data) == []


def test_spool_segments_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        spool = Spool(str(tmp_path / "spool"))
        spool.append([{"n": 1}])
        spool.close()
    finally:
        os.umask(old)
    assert open_to_others(tmp_path / "spool") == []
