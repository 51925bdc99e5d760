"""``basirat evaluate``: find the data, run the offline evaluation, record it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

TRAIN = "yoochoose/yoochoose-clicks-100k_train_full.txt"
TEST = "yoochoose/yoochoose-clicks-100k_test.txt"
CDNOW = "cdnow/CDNOW_master.txt"


def _first_sessions(frame, count: int):
    if not count:
        return frame
    keep = frame["session_id"].drop_duplicates().head(count)
    return frame[frame["session_id"].isin(keep)]


def reference_file(data_dir: str, name: str, fail: Callable[[str], None]) -> Path:
    """A file of the public reference data sets, or a clear error saying where it was looked for."""
    if not data_dir:
        fail(f"the reference data sets are not shipped with Basirat: pass --data-dir, a folder holding {name}")
    path = Path(data_dir) / name
    if not path.is_file():
        fail(f"{path} not found: --data-dir must be a folder holding {name}")
    return path


def run_evaluation(
    progress: Callable[[str], None], sessions: int, store, fail: Callable[[str], None], data_dir: str
) -> list[dict]:
    """Evaluate every strategy; ``store`` (a callable giving the warehouse) records the run."""
    from recommender.evaluate import evaluate, read_sessions

    train_path, test_path = reference_file(data_dir, TRAIN, fail), reference_file(data_dir, TEST, fail)
    progress(f"reading {train_path.parent}")
    train = _first_sessions(read_sessions(train_path), sessions * 5)
    test = _first_sessions(read_sessions(test_path), sessions)
    rows = evaluate(train, test, progress)
    rows = [{k: (float(v) if isinstance(v, float) else v) for k, v in row.items()} for row in rows]
    if store is not None:
        from warehouse.engine.migrate import migrate
        from warehouse.queries import recommendations as rec_store

        warehouse = store()
        migrate(warehouse)
        rec_store.write_evaluation(warehouse, "yoochoose-100k" + (f"-{sessions}" if sessions else ""), rows)
        progress(f"evaluation recorded in the warehouse at {time.strftime('%H:%M:%S')}")
    return rows


def run_clv(progress: Callable[[str], None], fail: Callable[[str], None], data_dir: str) -> dict:
    """The customer lifetime value report on CDNOW."""
    from mining import clv_report

    return clv_report.run(reference_file(data_dir, CDNOW, fail), progress)
