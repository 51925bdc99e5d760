"""``basirat evaluate`` and ``basirat tune``: find the data, run the offline evaluation, record it."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

YOOCHOOSE_TRAIN = "yoochoose/yoochoose-clicks-100k_train_full.txt"
YOOCHOOSE_TEST = "yoochoose/yoochoose-clicks-100k_test.txt"
INSTACART = "instacart/df_sample.csv"
CDNOW = "cdnow/CDNOW_master.txt"
REFERENCE = ("yoochoose", "instacart")
# Instacart's split: each shopper's orders of the last week (most shoppers' last order).
INSTACART_TEST_DAYS = 7.0


def reference_file(data_dir: str, name: str, fail: Callable[[str], None]) -> Path:
    """A file of the public reference data sets, or a clear error saying where it was looked for."""
    if not data_dir:
        fail(f"the reference data sets are not shipped with Basirat: pass --data-dir, a folder holding {name}")
    path = Path(data_dir) / name
    if not path.is_file():
        fail(f"{path} not found: --data-dir must be a folder holding {name}")
    return path


def reference_split(name: str, data_dir: str, fail: Callable[[str], None]):
    """(split, test days) of a reference data set: YOOCHOOSE as session-rec prepared it, Instacart prepared here."""
    from recommender.session_data import Split, instacart_sessions, prepare, read_session_file, time_split

    if name == "yoochoose":
        train = read_session_file(reference_file(data_dir, YOOCHOOSE_TRAIN, fail))
        test = read_session_file(reference_file(data_dir, YOOCHOOSE_TEST, fail))
        return Split(train, test), 1.0
    sessions = prepare(instacart_sessions(reference_file(data_dir, INSTACART, fail)))
    return time_split(sessions, INSTACART_TEST_DAYS), INSTACART_TEST_DAYS


def file_split(path: str, test_days: float, fail: Callable[[str], None]):
    from recommender.session_data import DataError, prepare, read_session_file, time_split

    try:
        return time_split(prepare(read_session_file(path)), test_days)
    except DataError as exc:
        fail(str(exc))


def site_split(warehouse, config: dict, site_id: str, test_days: float):
    """A site's own visits, cut as the recommender's jobs cut them, split by time."""
    from recommender.session_data import prepare, time_split
    from recommender.site_evaluation import site_sessions

    return time_split(prepare(site_sessions(warehouse, config, site_id), min_item_support=2), test_days)


def evaluate_splits(
    splits: dict, progress: Callable[[str], None], sessions: int, store, site_id: str = ""
) -> list[dict]:
    """Evaluate each named split; rows carry the data set's name and size. ``store`` records each run."""
    from recommender.evaluate import evaluate_split
    from recommender.session_data import subsample

    out = []
    for name, split in splits.items():
        split = subsample(split, sessions)
        sizes = split.describe()
        progress(f"{name}: {sizes['train_sessions']:,} training sessions, {sizes['test_sessions']:,} test sessions")
        rows = evaluate_split(split, progress)
        if store is not None:
            from warehouse.queries import rec_offline

            rec_offline.write_results(store(), site_id, name, rows, sizes)
        out.extend({"dataset": name, **sizes, **row} for row in rows)
    return out


def run_tune(splits: dict, progress: Callable[[str], None], sessions: int, draws: int = 60) -> dict:
    """``basirat tune``: the grid on validation splits cut from each training period."""
    from recommender.ranking import SERVED
    from recommender.tuning import tune, tune_baselines, validation_split

    validations = {}
    for name, (split, test_days) in splits.items():
        validations[name] = validation_split(split, test_days, sessions)
        sizes = validations[name].describe()
        progress(f"{name}: validation on {sizes['test_sessions']:,} sessions of the training period")
    progress("baselines, each over its published ranges:")
    baselines = tune_baselines(validations, count=draws, progress=progress)
    # The served ranking's V-SKNN part takes the settings chosen for the V-SKNN baseline.
    knn = {"knn." + k: v for k, v in baselines["vsknn"]["chosen"]["values"].items()}
    progress("served ranking:")
    record = tune(validations, progress=progress, base=SERVED.with_values(knn), baselines=baselines)
    record["baselines"] = baselines
    return record


def run_clv(progress: Callable[[str], None], fail: Callable[[str], None], data_dir: str) -> dict:
    """The customer lifetime value report on CDNOW."""
    from mining import clv_report

    return clv_report.run(reference_file(data_dir, CDNOW, fail), progress)
