"""The public data sets beside the checkout (``../shared/data``), for tests and benchmarks.

Nothing a user runs reads them: the demo ships its own data (``storefront/data``)
and ``basirat evaluate`` is told where the reference data sets are.
"""

from __future__ import annotations

from pathlib import Path

from tests.support import ROOT

DATA_DIR = ROOT.parent / "shared" / "data"


def data_dir() -> Path:
    """The folder holding ``yoochoose/``, ``cdnow/``, ``online_retail/`` and ``instacart/``."""
    for base in (DATA_DIR, Path.cwd().parent / "shared" / "data", Path.cwd() / "shared" / "data"):
        if base.is_dir():
            return base
    raise FileNotFoundError("cannot find the public data sets under ../shared/data")


def find_data(name: str) -> Path:
    """One file of those data sets."""
    path = data_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"cannot find {name} under {data_dir()}")
    return path
