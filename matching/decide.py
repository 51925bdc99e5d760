"""The deterministic tier, the guard rails, and which pairs become links or go to review.

A pair of records is linked when

- they share a standardised email or phone (the deterministic tier), or the
  Fellegi-Sunter weight reaches ``link_weight``; and
- nothing says they are two people: first names that differ beyond a typo
  (unless the birth dates agree: a household shares a surname, an address
  and a phone, not a birthday), two different ids of one source that verifies its ids
  (two customer numbers of one till), or a name and nothing else in common
  (names repeat: a name alone is not a person). A pair with such a conflict
  goes to review at most, never straight to a link; a pair whose first
  names differ is a household and is only recorded, not queued.

A value shared by more than ``max_shared`` records (a shop's own phone, a
household's landline used by many, ``info@`` addresses) is blanked before
matching: it is no evidence about any one person, so it never merges on its
own. An operator's verdicts win over everything: ``accept`` links, ``reject``
keeps apart (and keeps apart the people around them), ``unsure`` keeps the
pair in the queue without asking again first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SHARED = ("std_email", "std_phone", "std_address")
NAMES = {"first_name", "last_name"}
HOUSEHOLD = "first names differ"
DECISION_COLUMNS = ["a", "b", "tier", "weight", "probability", "agree", "close", "differ", "decision", "why"]


@dataclass(frozen=True)
class MatchSettings:
    """Thresholds in match weight (log2 of the Bayes factor with the prior): see docs/matching.md."""

    link_weight: float = 4.0
    review_weight: float = -2.0
    max_shared: int = 4


def frequent_values(records: pd.DataFrame, column: str, max_shared: int) -> set[str]:
    """Values of ``column`` held by more than ``max_shared`` records."""
    values = records[column][records[column] != ""]
    counts = values.value_counts()
    return set(counts.index[counts > max_shared])


def guard_shared(records: pd.DataFrame, max_shared: int) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """The records with frequent emails, phones and addresses blanked; and what was blanked."""
    out = records.copy()
    blanked = {}
    for column in SHARED:
        frequent = frequent_values(out, column, max_shared)
        blanked[column] = frequent
        if frequent:
            out.loc[out[column].isin(frequent), column] = ""
    return out, blanked


RULES = (
    (("std_email",), "email"),
    (("std_phone",), "phone"),
    (("std_first_name", "std_last_name", "std_birth_date"), "name_birth"),
)


def deterministic_pairs(records: pd.DataFrame) -> pd.DataFrame:
    """Pairs sharing a (non-frequent) standard email or phone, or full name and birth date: ``a, b, tier``."""
    frames = []
    for columns, tier in RULES:
        columns = list(columns)
        keyed = records.loc[(records[columns] != "").all(axis=1), ["uid", *columns]]
        joined = keyed.merge(keyed, on=columns)
        joined = joined[joined["uid_x"] < joined["uid_y"]]
        frames.append(pd.DataFrame({"a": joined["uid_x"], "b": joined["uid_y"], "tier": tier}))
    pairs = pd.concat(frames, ignore_index=True)
    return pairs.drop_duplicates(["a", "b"], keep="first").reset_index(drop=True)


def edits(a: str, b: str) -> int:
    """Levenshtein distance (names are short)."""
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def names_compatible(first_a: str, first_b: str, last_a: str = "", last_b: str = "") -> bool:
    """Could two first names be one person's? Equal, a typo apart, an initial, or first and last swapped."""
    if not first_a or not first_b or first_a == first_b:
        return True
    if (first_a, last_a) == (last_b, first_b) and first_a:
        return True
    short, long_ = sorted((first_a, first_b), key=len)
    if len(short) == 1 and long_.startswith(short):
        return True
    allowed = 2 if len(short) >= 7 else 1
    return edits(first_a, first_b) <= allowed


def conflicts(records: pd.DataFrame, pairs: pd.DataFrame) -> pd.Series:
    """Why each pair cannot be one person without an operator ('' when nothing says so)."""
    if pairs.empty:
        return pd.Series([], dtype=object)
    rec = records.set_index("uid")
    left, right = rec.loc[pairs["a"]], rec.loc[pairs["b"]]

    def both(column: str) -> tuple[np.ndarray, np.ndarray]:
        return left[column].to_numpy(dtype=object), right[column].to_numpy(dtype=object)

    (first_a, first_b), (last_a, last_b), (born_a, born_b) = (
        both("std_first_name"),
        both("std_last_name"),
        both("std_birth_date"),
    )
    unlike = np.flatnonzero((first_a != "") & (first_b != "") & (first_a != first_b))
    household = np.zeros(len(pairs), dtype=bool)
    household[unlike] = [not names_compatible(first_a[i], first_b[i], last_a[i], last_b[i]) for i in unlike.tolist()]
    household &= ~((born_a != "") & (born_a == born_b))
    (source_a, source_b), (id_a, id_b) = both("source"), both("source_id")
    verified = left["verified"].to_numpy(dtype=bool) & right["verified"].to_numpy(dtype=bool)
    one_source = verified & (source_a == source_b) & (id_a != id_b)
    why = np.where(household, HOUSEHOLD, np.where(one_source, "two ids of one source", ""))
    return pd.Series(why, index=pairs.index, dtype=object)


def decide(
    records: pd.DataFrame,
    deterministic: pd.DataFrame,
    probabilistic: pd.DataFrame,
    verdicts: pd.DataFrame,
    settings: MatchSettings = MatchSettings(),
) -> pd.DataFrame:
    """One row per candidate pair with its ``decision``: ``link``, ``review`` or ``none``, and ``why``.

    Parameters
    ----------
    records : DataFrame
        ``uid, source, source_id, verified`` and the ``std_`` columns.
    deterministic, probabilistic : DataFrame
        From ``deterministic_pairs`` and ``linkage.predict_pairs``.
    verdicts : DataFrame
        ``a, b, verdict`` (``accept``, ``reject``, ``unsure``): the operator's latest word on a pair.
    """
    pairs = probabilistic.merge(deterministic, on=["a", "b"], how="outer")
    pairs["tier"] = pairs["tier"].fillna("splink").astype(object)
    pairs["weight"] = pairs["weight"].astype(float).fillna(np.inf)
    pairs["probability"] = pairs["probability"].astype(float).fillna(1.0)
    for column in ("agree", "close", "differ"):
        pairs[column] = [v if isinstance(v, list) else [] for v in pairs[column]]
    pairs["agree"] = [a if a or t == "splink" else [t] for a, t in zip(pairs["agree"], pairs["tier"])]
    said = verdicts.set_index(["a", "b"])["verdict"].to_dict() if len(verdicts) else {}
    missing = [k for k in said if k not in set(zip(pairs["a"], pairs["b"]))]
    if missing:  # an operator's accepted pair stays decided even if the model no longer proposes it
        extra = pd.DataFrame({"a": [a for a, _ in missing], "b": [b for _, b in missing], "tier": "review"})
        extra["weight"], extra["probability"] = np.nan, np.nan
        extra["agree"] = extra["close"] = extra["differ"] = [[] for _ in range(len(extra))]
        pairs = pd.concat([pairs, extra], ignore_index=True)
    why = conflicts(records, pairs)
    name_only = pd.Series(
        [not (set(a) | set(c)) - NAMES for a, c in zip(pairs["agree"], pairs["close"])], index=pairs.index
    )
    why = why.mask((why == "") & name_only & (pairs["tier"] == "splink"), "only the name agrees")
    strong = (pairs["tier"] != "splink") | (pairs["weight"] >= settings.link_weight)
    # A conflict is worth an operator's time only where the evidence would otherwise have linked the pair
    # (one till's two customer numbers, a name with a weight that would link); the rest of the grey zone
    # is the pairs with no conflict from the review threshold up.
    grey = (pairs["weight"] >= settings.review_weight) & (why == "")
    decision = np.where(strong & (why == ""), "link", np.where(strong | grey, "review", ""))
    # Two first names on one phone or street are a household, not a question: recorded, never queued.
    decision = np.where((why == HOUSEHOLD) & (decision != ""), "none", decision)
    verdict = pd.Series([said.get(k, "") for k in zip(pairs["a"], pairs["b"])], index=pairs.index, dtype=object)
    decision = np.where(verdict == "accept", "link", np.where(verdict == "reject", "none", decision))
    why = why.mask(verdict != "", "operator: " + verdict)
    pairs["decision"], pairs["why"] = decision, why.to_numpy()
    pairs = pairs[pairs["decision"] != ""]
    return _one_verified_id_per_source(records, pairs)[DECISION_COLUMNS].reset_index(drop=True)


def _one_verified_id_per_source(records: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Links applied strongest first; one that would put two verified ids of a source in one person goes to review.

    Pairwise checks cannot see a chain (till 1 ~ call centre ~ till 2); this union-find can.
    """
    verified = records[records["verified"].astype(bool)]
    owner = {u: {(s, i)} for u, s, i in zip(verified["uid"], verified["source"], verified["source_id"])}
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    pairs = pairs.reset_index(drop=True)
    links = np.flatnonzero((pairs["decision"] == "link").to_numpy())
    weights = pairs["weight"].to_numpy(dtype=float)[links]
    order = links[np.argsort(-np.nan_to_num(weights, nan=np.inf), kind="stable")]
    a, b, why = (
        pairs["a"].to_numpy(dtype=object),
        pairs["b"].to_numpy(dtype=object),
        pairs["why"].to_numpy(dtype=object),
    )
    held = []
    for row in order.tolist():
        ra, rb = find(a[row]), find(b[row])
        if ra == rb:
            continue
        ids_a, ids_b = owner.get(ra, set()), owner.get(rb, set())
        if ids_a and ids_b and not why[row]:
            sources_a = {s for s, _ in ids_a}
            if any(s in sources_a and (s, i) not in ids_a for s, i in ids_b):
                held.append(row)
                continue
        parent[rb] = ra
        if ids_b:
            owner[ra] = ids_a | ids_b
    pairs.loc[held, "decision"] = "review"
    pairs.loc[held, "why"] = "two ids of one source"
    return pairs


def clusters(uids: pd.Series, pairs: pd.DataFrame) -> pd.Series:
    """The cluster (smallest uid) of each record, from linked pairs; for evaluation and the web bridge."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    codes = {u: i for i, u in enumerate(uids)}
    linked = pairs[pairs["decision"] == "link"]
    a = np.array([codes[u] for u in linked["a"]], dtype=np.int64)
    b = np.array([codes[u] for u in linked["b"]], dtype=np.int64)
    n = len(codes)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    labels = connected_components(graph, directed=False)[1]
    first = pd.Series(list(uids)).groupby(labels).transform("min")
    return pd.Series(first.to_numpy(), index=list(uids))
