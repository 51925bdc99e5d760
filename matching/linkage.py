"""The probabilistic tier: Fellegi-Sunter record linkage through Splink on DuckDB.

Splink is the reference implementation of the model (comparison levels, m and
u probabilities, EM, blocking rules). Its ClickHouse backend does not run on
our chDB, so the records are read from the warehouse and linked by Splink's
DuckDB backend in this process; the pairs it finds go back to the warehouse.

Blocking keeps the cost near-linear: only pairs agreeing exactly on one of the
``BLOCKS`` are ever compared, each selective (a full name, a surname with a
postcode, a phone), never a single common value such as a first name alone.
A small site has too few records to estimate m and u, so every comparison
carries prior probabilities; a site with ``train_min`` records or more learns
u from random pairs and m by EM, starting from those priors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

COLUMNS = ("first_name", "last_name", "email", "phone", "address", "city", "postcode", "birth_date")
# Each rule is a set of columns that must agree exactly for a pair to be compared at all.
BLOCKS = (
    ("email",),
    ("phone",),
    ("first_name", "last_name"),
    ("last_name", "postcode"),
    ("first_name", "postcode"),
    ("last_name", "birth_date"),
    ("first_name", "birth_date"),
    ("postcode", "birth_date"),
    ("address", "postcode"),
    ("address",),
    ("city", "birth_date"),
    ("first_name", "city"),
    ("last_name", "city"),
    ("substr(first_name, 1, 2)", "substr(last_name, 1, 2)", "substr(postcode, 1, 2)"),
)


@dataclass(frozen=True)
class LinkOptions:
    """How the probabilistic tier runs (thresholds are settings; see ``decide``)."""

    train_min: int = 1000
    duplicates: float = 0.5
    random_pairs: int = 1_000_000
    seed: int = 7


def _levels(column: str, kind: str):
    import splink.comparison_level_library as cll

    if kind == "name":
        other = "last_name" if column == "first_name" else "first_name"
        return [
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            cll.ColumnsReversedLevel(column, other),
            cll.JaroWinklerLevel(column, 0.92),
            cll.JaroWinklerLevel(column, 0.8),
            cll.ElseLevel(),
        ], ([0.82, 0.04, 0.07, 0.04, 0.03], [0.004, 0.0005, 0.003, 0.012, 0.9805])
    if kind == "text":
        return [
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            cll.JaroWinklerLevel(column, 0.9),
            cll.JaroWinklerLevel(column, 0.75),
            cll.ElseLevel(),
        ], ([0.8, 0.1, 0.05, 0.05], [0.002, 0.004, 0.03, 0.964])
    # identifiers and codes: exact, one or two edits
    return [
        cll.NullLevel(column),
        cll.ExactMatchLevel(column),
        cll.LevenshteinLevel(column, 1),
        cll.LevenshteinLevel(column, 2),
        cll.ElseLevel(),
    ], ([0.85, 0.08, 0.03, 0.04], [0.0005, 0.002, 0.01, 0.9875])


# The gamma of an exact match (Splink numbers levels from ELSE = 0 upwards).
TOP = {"name": 4, "text": 3, "code": 3}
KINDS = {
    "first_name": "name",
    "last_name": "name",
    "address": "text",
    "city": "text",
    "email": "code",
    "phone": "code",
    "postcode": "code",
    "birth_date": "code",
}


def comparisons(present: list[str]) -> list:
    """The shipped comparisons, with prior m and u, for the columns that hold any value."""
    import splink.comparison_library as cl

    out = []
    for column in present:
        levels, (m, u) = _levels(column, KINDS[column])
        out.append(
            cl.CustomComparison(comparison_levels=levels, output_column_name=column).configure(
                m_probabilities=m, u_probabilities=u
            )
        )
    return out


def linkable(records: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The records as Splink reads them: ``uid`` and standard values, empty as null; the columns in use."""
    frame = pd.DataFrame({"uid": records["uid"].astype(str).to_numpy()})
    present = []
    for column in COLUMNS:
        values = records["std_" + column].astype(str).replace("", None).to_numpy(dtype=object)
        frame[column] = values
        if pd.notna(values).any():
            present.append(column)
    return frame, present


def predict_pairs(
    records: pd.DataFrame, options: LinkOptions = LinkOptions(), floor: float = 0.0, library_defaults: bool = False
) -> pd.DataFrame:
    """Every blocked pair with match weight at or above ``floor``.

    Parameters
    ----------
    records : DataFrame
        ``uid`` and ``std_<column>`` for each of ``COLUMNS``.
    options : LinkOptions
        Training size, prior, random pairs for u.
    floor : float
        Lowest match weight returned (the review threshold: weaker pairs matter to nobody).
    library_defaults : bool
        Splink's own comparison templates and training recipe instead of ours (the evaluation's baseline).

    Returns
    -------
    DataFrame
        ``a, b`` (uids, ``a < b``), ``weight``, ``probability``, and ``agree``/``close``/``differ``:
        lists of the columns at each level.
    """
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    _quiet()
    frame, present = linkable(records)
    empty = pd.DataFrame(columns=["a", "b", "weight", "probability", "agree", "close", "differ"])
    if len(frame) < 2 or not present:
        return empty
    blocks = [block_on(*rule) for rule in BLOCKS if set(map(_column_of, rule)) <= set(present)]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="uid",
        comparisons=_default_comparisons(present) if library_defaults else comparisons(present),
        blocking_rules_to_generate_predictions=blocks,
        probability_two_random_records_match=prior_match(len(frame), options.duplicates),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
    )
    connection = _connection()
    try:
        linker = Linker(frame, settings, db_api=DuckDBAPI(connection=connection))
        if library_defaults or len(frame) >= options.train_min:
            _train(linker, present, options, frame)
        predicted = linker.inference.predict(threshold_match_weight=floor).as_pandas_dataframe()
    finally:
        connection.close()  # DuckDB's tables and memory go now, not whenever the job's process collects them
    return _pairs(predicted, present, library_defaults)


def prior_match(records: int, duplicates: float = 0.5) -> float:
    """The chance that two random records are one person when each record has ``duplicates`` others on average.

    It falls with the size of the data: a fixed prior would make every pair of a
    million records a thousand times likelier than it is.
    """
    return min(0.5, max(duplicates, 1e-3) / max(records - 1, 1))


def _connection():
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    return connection


def _column_of(expression: str) -> str:
    return expression.removeprefix("substr(").split(",")[0]


def _quiet() -> None:
    """Splink reports each training step on its loggers; our progress lines say what a user needs."""
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for name, logger in logging.root.manager.loggerDict.items():
        if name.startswith("splink") and isinstance(logger, logging.Logger):
            logger.setLevel(logging.ERROR)


def _train(linker, present: list[str], options: LinkOptions, frame: pd.DataFrame) -> None:
    """u from random pairs, m by EM over a few blocking rules, so that every column is estimated in one.

    A rule that finds no pairs in this data (no two records share a postcode
    and a birth date, say) is skipped; the comparisons keep their priors.
    """
    from splink import block_on
    from splink.internals.exceptions import EMTrainingException

    exact = [
        block_on(*r)
        for r in (("email",), ("phone",), ("first_name", "last_name", "birth_date"))
        if set(r) <= set(present)
    ]
    if exact:
        try:
            linker.training.estimate_probability_two_random_records_match(exact, recall=0.7)
        except Exception:  # noqa: BLE001 - Splink raises plain exceptions when the rules find no pair; the prior stays
            pass
    linker.training.estimate_u_using_random_sampling(max_pairs=options.random_pairs, seed=options.seed)
    rules = [("first_name", "last_name"), ("email",), ("phone",), ("postcode", "birth_date")]
    trained = 0
    for rule in rules:
        if trained == 2:
            break
        if not set(rule) <= set(present):
            continue
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), estimate_without_term_frequencies=True
            )
            trained += 1
        except EMTrainingException:
            continue


def _default_comparisons(present: list[str]) -> list:
    """Splink's ready-made comparisons, as its tutorials use them."""
    import splink.comparison_library as cl

    made = {
        "first_name": lambda c: cl.NameComparison(c),
        "last_name": lambda c: cl.NameComparison(c),
        "email": lambda c: cl.EmailComparison(c),
        "postcode": lambda c: cl.PostcodeComparison(c),
        "birth_date": lambda c: cl.DateOfBirthComparison(c, input_is_string=True),
    }
    return [made.get(c, lambda c: cl.LevenshteinAtThresholds(c))(c) for c in present]


def _pairs(predicted: pd.DataFrame, present: list[str], observed_top: bool = False) -> pd.DataFrame:
    a, b = predicted["uid_l"].astype(str).to_numpy(), predicted["uid_r"].astype(str).to_numpy()
    low, high = np.minimum(a, b), np.maximum(a, b)
    out = pd.DataFrame(
        {
            "a": low,
            "b": high,
            "weight": predicted["match_weight"].astype(float).to_numpy(),
            "probability": predicted["match_probability"].astype(float).to_numpy(),
        }
    )
    gammas = {c: predicted["gamma_" + c].to_numpy() for c in present if "gamma_" + c in predicted}
    tops = {c: _top_level(g) if observed_top else TOP[KINDS[c]] for c, g in gammas.items()}
    out["agree"] = _columns_where(gammas, lambda c, g: g == tops[c])
    out["close"] = _columns_where(gammas, lambda c, g: (g > 0) & (g < tops[c]))
    out["differ"] = _columns_where(gammas, lambda c, g: g == 0)
    return out


def _top_level(gamma: np.ndarray) -> int:
    return int(np.max(gamma)) if len(gamma) else 0


def _columns_where(gammas: dict, test) -> list[list[str]]:
    masks = {c: test(c, g) for c, g in gammas.items()}
    n = len(next(iter(gammas.values()))) if gammas else 0
    return [[c for c, m in masks.items() if m[i]] for i in range(n)]
