"""``basirat backup`` / ``basirat restore``: the embedded data folder as one archive.

A consistent copy needs the writer stopped: chDB's folder has a single owner
(``basirat serve``) whose background merges and loader keep rewriting files.
So both commands take the owner's lock on the folder themselves (the flock
chDB holds on ``status``) for the whole copy; while ``basirat serve`` runs
they refuse with a clear message rather than copy files mid-write. The
archive holds ``warehouse/`` and ``spool/`` (accepted events not yet loaded).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tarfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

SKIP = {"basirat.sock", "status"}


class BackupError(Exception):
    pass


def folders(config: dict) -> dict[str, Path]:
    """The folders an archive holds, by their name inside it."""
    url = urlsplit(config["WAREHOUSE_URL"])
    if url.scheme != "chdb":
        raise BackupError(
            "backup and restore cover the embedded warehouse (chdb://); back up a ClickHouse server "
            "with its own BACKUP command or clickhouse-backup"
        )
    warehouse = Path(os.path.abspath(unquote(url.netloc + url.path)))
    return {"warehouse": warehouse, "spool": Path(os.path.abspath(config["SPOOL_DIR"]))}


@contextlib.contextmanager
def owned(warehouse: Path):
    """Hold the folder's owner lock, so no ``basirat serve`` starts meanwhile."""
    warehouse.mkdir(parents=True, exist_ok=True)
    fd = os.open(warehouse / "status", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"{warehouse} is in use (basirat serve is running on it, or another basirat command has it "
                "open); stop it first: a copy taken while it writes would not be consistent"
            ) from None
        yield
    finally:
        os.close(fd)


def _skip(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if os.path.basename(info.name) in SKIP or not (info.isfile() or info.isdir()) else info


def backup(config: dict, dest: str) -> str:
    """Write the archive (gzip tar) to ``dest``; returns a one-line summary."""
    places = folders(config)
    target = Path(dest)
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name")
    if not places["warehouse"].is_dir():
        raise BackupError(f"there is no embedded warehouse at {places['warehouse']} to back up")
    partial = target.with_name(target.name + ".partial")
    started = time.monotonic()
    with owned(places["warehouse"]), tarfile.open(partial, "w:gz") as archive:
        for name, folder in places.items():
            if folder.is_dir():
                archive.add(folder, arcname=name, filter=_skip)
    os.replace(partial, target)
    size = target.stat().st_size
    return f"backed up {places['warehouse']} to {target} ({size / 1e6:.1f} MB in {time.monotonic() - started:.1f}s)"


def _has_data(folder: Path) -> bool:
    return folder.is_dir() and any(p.name not in SKIP for p in folder.iterdir())


def restore(config: dict, src: str, force: bool = False) -> str:
    """Replace the data folders with an archive's; the old ones are kept aside."""
    places = folders(config)
    if not Path(src).is_file():
        raise BackupError(f"no archive at {src}")
    if not force and any(_has_data(folder) for folder in places.values()):
        raise BackupError(f"{places['warehouse']} already holds data; add --force to replace it (kept aside)")
    staging = places["warehouse"].with_name(places["warehouse"].name + ".restoring")
    shutil.rmtree(staging, ignore_errors=True)
    with owned(places["warehouse"]):
        try:
            with tarfile.open(src, "r:gz") as archive:
                archive.extractall(staging, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise BackupError(f"{src} is not a Basirat backup: {exc}") from None
        if not (staging / "warehouse").is_dir():
            shutil.rmtree(staging, ignore_errors=True)
            raise BackupError(f"{src} is not a Basirat backup (no warehouse/ inside)")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for name, folder in places.items():
            if folder.exists() and _has_data(folder):
                folder.rename(folder.with_name(f"{folder.name}.before-restore-{stamp}"))
            elif folder.exists() and name != "warehouse":
                shutil.rmtree(folder)
            if (staging / name).is_dir():
                _move_contents(staging / name, folder)
    shutil.rmtree(staging, ignore_errors=True)
    return f"restored {src} into {places['warehouse']}"


def _move_contents(source: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        os.replace(item, folder / item.name)
