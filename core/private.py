"""The data folder is private to the account that runs Basirat: files 0600, folders 0700.

It holds what must not be read by other local users: site write keys and
webhook secrets and password hashes (in the chDB folder), the spool's events
and ``keys.json``, the session secret (``secret_key``). ``restrict(config)``,
called at the start of every process that owns them (the ``basirat``
command, the gunicorn configurations), sets the process's umask so all it
creates is private, and takes group and other permissions off what an older
version left. A folder already closed to others is not walked: nobody else
can reach what is inside it.
"""

from __future__ import annotations

import logging
import os
import stat

log = logging.getLogger(__name__)

UMASK = 0o077


def private_paths(config) -> list[str]:
    """The spool, the embedded warehouse's folder, the session secret, and the data folder holding them."""
    spool = os.path.abspath(str(config.get("SPOOL_DIR") or "./data/spool"))
    paths = [spool, os.path.join(os.path.dirname(spool), "secret_key")]
    url = str(config.get("WAREHOUSE_URL") or "")
    if url.startswith("chdb://"):
        folder = os.path.abspath(url[len("chdb://") :].split("?", 1)[0])
        paths.append(folder)
        laid_out = (os.path.basename(folder), os.path.basename(spool)) == ("warehouse", "spool")
        if laid_out and os.path.dirname(folder) == os.path.dirname(spool):  # --data DIR, and the default
            paths.append(os.path.dirname(spool))
    return paths


def restrict(config) -> None:
    """Private from now on (the umask), and private already (permissions fixed)."""
    os.umask(UMASK)
    for path in private_paths(config):
        tighten(path)


def tighten(path: str) -> None:
    """Take group and other permissions off ``path`` and, if it was open to them, everything under it."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode) or not mode & UMASK:
        return
    _chmod(path, mode)
    if stat.S_ISDIR(mode):
        for root, folders, files in os.walk(path):
            for name in folders + files:
                child = os.path.join(root, name)
                try:
                    child_mode = os.lstat(child).st_mode
                except FileNotFoundError:
                    continue
                if not stat.S_ISLNK(child_mode) and child_mode & UMASK:
                    _chmod(child, child_mode)


def _chmod(path: str, mode: int) -> None:
    try:
        os.chmod(path, stat.S_IMODE(mode) & ~UMASK)
    except OSError as exc:
        log.warning("could not make %s private: %s", path, exc.strerror)
