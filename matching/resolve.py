"""Records in, decided pairs out: the two tiers and the guard rails in the order they run."""

from __future__ import annotations

import time
from typing import Callable

import pandas as pd

from .decide import MatchSettings, decide, deterministic_pairs, guard_shared
from .linkage import LinkOptions, predict_pairs

RECORD_COLUMNS = ["uid", "source", "source_id", "verified"]


def resolve(
    records: pd.DataFrame,
    verdicts: pd.DataFrame | None = None,
    settings: MatchSettings | None = None,
    options: LinkOptions | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> pd.DataFrame:
    """Decided pairs of ``records`` (``uid, source, source_id, verified`` and standard values).

    Frequent values are blanked first (``guard_shared``), so neither tier can
    merge on them; the probabilistic tier returns pairs down to the review
    threshold; ``decide`` applies conflicts, verdicts and the one-id-per-source rule.
    """
    settings, options = settings or MatchSettings(), options or LinkOptions()
    started = time.perf_counter()
    guarded, blanked = guard_shared(records, settings.max_shared)
    shared = sum(len(v) for v in blanked.values())
    deterministic = deterministic_pairs(guarded)
    progress(
        f"{len(deterministic)} pairs share an email, phone or name and birth date; {shared} shared values set aside"
    )
    probabilistic = predict_pairs(guarded, options, floor=settings.review_weight)
    progress(f"{len(probabilistic)} blocked pairs weighed by Splink ({time.perf_counter() - started:.1f}s so far)")
    if verdicts is None:
        verdicts = pd.DataFrame(columns=["a", "b", "verdict"])
    return decide(guarded, deterministic, probabilistic, verdicts, settings)
