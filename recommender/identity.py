"""Identity stitching: which anonymous ids, user ids and emails are one person.

Identities are strings ``kind:value``: ``anon:<anonymousId>``, ``user:<userId>``
(the web store's customer id), ``customer:<id>`` (a customer id of an imported
channel: a till, a phone line, a marketplace) and
``email:<sha256 of the trimmed, lowercased address>``. A link says two
identities belong together and why (``identify``, ``login``, ``alias``,
``email``, ``import``, ``manual``) and which message showed it.

Links are applied in a canonical order (manual merges first, then by time),
so the result does not depend on the order rows arrived in, and a link is
refused when it would:

- join two different known customers (two ``user:`` ids, or two ``customer:``
  ids): a shared device or a ``reset()`` that did not happen must not merge a
  household into one person; only a manual merge may do that. A web user and
  an imported customer with one email are one person known in two systems;
- join two identities an operator separated (a manual unmerge);
- grow a person past ``max_ids`` identities (a runaway merge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from warehouse.identity import email_identity, person_id_of

__all__ = ["Stitched", "email_identity", "person_id_of", "stitch_identities"]

KNOWN = ("user:", "customer:")
MANUAL = "manual"
ASSIGNMENT_COLUMNS = ["identity", "person_id", "via", "reason", "message_id", "linked_at"]
REFUSED_COLUMNS = ["a", "b", "reason", "message_id", "at", "refused"]


@dataclass
class Stitched:
    """Who is who (one row per identity) and the links that were refused."""

    assignment: pd.DataFrame
    refused: pd.DataFrame


def canonical_links(links: pd.DataFrame) -> pd.DataFrame:
    """One row per unordered pair, keeping its earliest evidence, in apply order."""
    frame = links.loc[links["a"] != links["b"], ["a", "b", "reason", "message_id", "at"]].reset_index(drop=True)
    swap = frame["a"] > frame["b"]
    frame.loc[swap, ["a", "b"]] = frame.loc[swap, ["b", "a"]].to_numpy()
    frame["manual"] = (frame["reason"] != MANUAL).astype("int8")
    frame = frame.sort_values(["manual", "at", "a", "b", "reason", "message_id"], kind="stable")
    frame = frame.drop_duplicates(["a", "b"], keep="first")
    return frame.reset_index(drop=True)


class _Forest:
    """Union-find over integer ids with the guard rails' per-person counters."""

    def __init__(self, names, blocks: dict[int, set[int]]):
        self.parent = list(range(len(names)))
        self.size = [1] * len(names)
        self.users = [1 if n.startswith(KNOWN[0]) else 0 for n in names]
        self.customers = [1 if n.startswith(KNOWN[1]) else 0 for n in names]
        self.blocks = blocks
        self.blocked = {i: {i} for i in blocks}

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def refusal(self, ra: int, rb: int, manual: bool, max_ids: int) -> str:
        if not manual and ((self.users[ra] and self.users[rb]) or (self.customers[ra] and self.customers[rb])):
            return "two_known_customers"
        if self.size[ra] + self.size[rb] > max_ids:
            return "too_many_ids"
        left, right = self.blocked.get(ra, ()), self.blocked.get(rb, ())
        if left and right:
            for member in left if len(left) <= len(right) else right:
                other = rb if member in left else ra
                if any(self.find(x) == other for x in self.blocks[member]):
                    return "unmerged"
        return ""

    def union(self, ra: int, rb: int) -> None:
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        self.users[ra] += self.users[rb]
        self.customers[ra] += self.customers[rb]
        if rb in self.blocked:
            self.blocked.setdefault(ra, set()).update(self.blocked.pop(rb))


def stitch_identities(links: pd.DataFrame, blocks: pd.DataFrame | None = None, max_ids: int = 200) -> Stitched:
    """Group identities into people.

    Parameters
    ----------
    links : DataFrame
        Columns ``a, b, reason, message_id, at``: evidence that ``a`` and ``b``
        are the same person. Duplicates and either order are fine.
    blocks : DataFrame, optional
        Columns ``a, b``: pairs an operator separated; never in one person.
    max_ids : int
        Most identities one person may hold.

    Returns
    -------
    Stitched
        ``assignment``: one row per identity with its ``person_id`` and the
        link that joined it (``via`` the other identity, ``reason``,
        ``message_id``, ``linked_at``; empty for a person of one identity).
        The person id derives from the person's earliest identity, so it is
        stable while the person grows. ``refused``: links not applied, why.
    """
    ordered = canonical_links(links)
    a_text = ordered["a"].to_numpy(dtype=object)
    b_text = ordered["b"].to_numpy(dtype=object)
    codes, uniques = pd.factorize(np.concatenate([a_text, b_text]), sort=True)
    names = uniques.to_numpy(dtype=object) if hasattr(uniques, "to_numpy") else np.asarray(uniques, dtype=object)
    index = {name: i for i, name in enumerate(names)}
    forest = _Forest(names, _block_index(blocks, index))
    half = len(ordered)
    a_ids, b_ids = codes[:half].tolist(), codes[half:].tolist()
    manual = (ordered["manual"] == 0).tolist()
    accepted, refused = [], []
    for row, (ia, ib, is_manual) in enumerate(zip(a_ids, b_ids, manual)):
        ra, rb = forest.find(ia), forest.find(ib)
        if ra == rb:
            continue
        why = forest.refusal(ra, rb, is_manual, max_ids)
        if why:
            refused.append((row, why))
            continue
        forest.union(ra, rb)
        accepted.append(row)
    edges = (codes[:half], codes[half:], np.asarray(accepted, dtype=np.int64))
    return Stitched(_assignment(ordered, edges, names, forest), _refused(ordered, refused))


def _block_index(blocks: pd.DataFrame | None, index: dict[str, int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    if blocks is None or blocks.empty:
        return out
    for a, b in zip(blocks["a"], blocks["b"]):
        if a in index and b in index and a != b:
            out.setdefault(index[a], set()).add(index[b])
            out.setdefault(index[b], set()).add(index[a])
    return out


def _assignment(ordered: pd.DataFrame, edges: tuple, names: np.ndarray, forest: _Forest) -> pd.DataFrame:
    """Vectorized: each identity's person and the earliest accepted link (in apply order) touching it."""
    a_ids, b_ids, accepted = edges
    n = len(names)
    parent = np.asarray(forest.parent, dtype=np.int64)
    roots = parent.copy()
    while True:  # pointer jumping until every id points at its root
        jumped = parent[roots]
        if np.array_equal(jumped, roots):
            break
        roots = jumped
    none = np.iinfo(np.int64).max
    first = np.full(n, none, dtype=np.int64)
    np.minimum.at(first, a_ids[accepted], accepted)
    np.minimum.at(first, b_ids[accepted], accepted)
    linked = first != none
    row = np.where(linked, first, 0)
    other = np.where(a_ids[row] == np.arange(n), b_ids[row], a_ids[row])
    # The anchor (whose id names the person) is the identity linked earliest, then the smallest.
    order = np.lexsort((np.arange(n), first, roots))
    is_head = np.ones(n, dtype=bool)
    is_head[1:] = roots[order][1:] != roots[order][:-1]
    anchor_of_root = dict(zip(roots[order][is_head].tolist(), names[order][is_head].tolist()))
    person_of_root = {root: person_id_of(anchor) for root, anchor in anchor_of_root.items()}
    reasons = ordered["reason"].to_numpy(dtype=object)
    messages = ordered["message_id"].to_numpy(dtype=object)
    times = pd.to_datetime(ordered["at"]).to_numpy()
    frame = pd.DataFrame(
        {
            "identity": names,
            "person_id": np.array([person_of_root[r] for r in roots.tolist()], dtype=object),
            "via": np.where(linked, names[other], ""),
            "reason": np.where(linked, reasons[row] if len(reasons) else "", ""),
            "message_id": np.where(linked, messages[row] if len(messages) else "", ""),
            "linked_at": pd.Series(np.where(linked, times[row] if len(times) else None, np.datetime64("NaT"))),
        }
    )
    for column in ("identity", "person_id", "via", "reason", "message_id"):
        frame[column] = frame[column].astype(object)
    frame["linked_at"] = pd.to_datetime(frame["linked_at"])
    return frame[ASSIGNMENT_COLUMNS]


def _refused(ordered: pd.DataFrame, refused: list[tuple[int, str]]) -> pd.DataFrame:
    if not refused:
        return pd.DataFrame(columns=REFUSED_COLUMNS)
    rows, why = zip(*refused)
    frame = ordered.iloc[list(rows)][["a", "b", "reason", "message_id", "at"]].copy()
    frame["refused"] = list(why)
    return frame.reset_index(drop=True)
