"""Model versions: every job writes a new version and readers take the newest.

A version is the wall clock in nanoseconds when the job ran, so versions sort
by time on every backend and two runs never share one.
"""

from __future__ import annotations

import time

import pandas as pd


def new_version() -> int:
    return time.time_ns()


def refolds_in_full(config: dict, mark: dict | None) -> bool:
    """Whether a ``--full`` run (``config["full"]``: when it began, in ns) still folds anew: it folds
    once, so a generation started since it began (``mark``, the fold's) is already its full one."""
    return bool(config.get("full")) and not (mark and mark["generation"] >= int(config["full"]))


def stamped(frame: pd.DataFrame, version: int) -> pd.DataFrame:
    """``frame`` with the ``model_version`` and ``computed_at`` columns a versioned table stores."""
    now = pd.Timestamp.now("UTC").floor("s").tz_localize(None)
    return frame.assign(
        model_version=pd.Series(version, index=frame.index, dtype="uint64"),
        computed_at=pd.Series(now, index=frame.index).astype("datetime64[s]"),
    )
