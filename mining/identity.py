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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from warehouse.queries.identity import email_identity, person_id_of

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


class _Edges:
    """The links as integer pairs in apply order: manual merges first, then by time.

    One row per unordered pair, keeping its earliest evidence. Identities are
    numbered in sorted order, so ``a < b`` as numbers is ``a < b`` as text,
    and every sort here is over integers, not strings.
    """

    def __init__(self, links: pd.DataFrame):
        links = links.loc[(links["a"] != links["b"]).to_numpy(dtype=bool)]
        half = len(links)
        codes, uniques = pd.factorize(pd.concat([links["a"], links["b"]], ignore_index=True), sort=True)
        self.names = np.asarray(uniques, dtype=object)
        first, second = codes[:half], codes[half:]
        a, b = np.minimum(first, second), np.maximum(first, second)
        reasons = links["reason"].to_numpy(dtype=object)
        manual = reasons == MANUAL
        reason_codes = pd.factorize(links["reason"], sort=True)[0]
        times = pd.to_datetime(links["at"]).to_numpy()
        instants = times.astype("datetime64[ns]").view("int64")
        instants = np.where(np.isnat(times), np.iinfo(np.int64).max, instants)
        keys = (reason_codes, b, a, instants, ~manual)
        order = np.lexsort(keys)
        if _has_ties(keys, order):  # the message id decides, which is rarely needed
            order = np.lexsort((pd.factorize(links["message_id"], sort=True)[0], *keys))
        pair = a[order].astype(np.int64) * max(len(self.names), 1) + b[order]
        _, first_seen = np.unique(pair, return_index=True)
        rows = order[np.sort(first_seen)]
        self.a, self.b, self.manual = a[rows], b[rows], manual[rows]
        self.reasons = reasons[rows]
        self.messages = links["message_id"].to_numpy(dtype=object)[rows]
        self.times = times[rows]

    def __len__(self) -> int:
        return len(self.a)


def _has_ties(keys: tuple, order: np.ndarray) -> bool:
    same = np.ones(max(len(order) - 1, 0), dtype=bool)
    for key in keys:
        ranked = key[order]
        same &= ranked[1:] == ranked[:-1]
    return bool(same.any())


class _Forest:
    """Union-find over integer ids with the guard rails' per-person counters."""

    def __init__(self, users: np.ndarray, customers: np.ndarray, blocks: dict[int, set[int]]):
        self.parent = list(range(len(users)))
        self.size = [1] * len(users)
        self.users = users.astype(int).tolist()
        self.customers = customers.astype(int).tolist()
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
    edges = _Edges(links)
    names, n = edges.names, len(edges.names)
    users, customers = _prefixed(names, KNOWN[0]), _prefixed(names, KNOWN[1])
    blocked = _block_index(blocks, names)
    component = _components(edges, n)
    # The guard rails can only bite in a component holding two known users or
    # customers, more than max_ids identities, or both sides of an unmerge;
    # elsewhere every link that joins two groups is applied, which is the
    # connected component. Only the contested components go through the
    # link-by-link union-find below.
    contested = (
        (np.bincount(component, weights=users, minlength=n) > 1)
        | (np.bincount(component, weights=customers, minlength=n) > 1)
        | (np.bincount(component, minlength=n) > max_ids)
    )
    for i, others in blocked.items():
        for j in others:
            if component[i] == component[j]:
                contested[component[i]] = True
    forest = _Forest(users, customers, blocked)
    in_contest = contested[component[edges.a]]
    accepted = ~in_contest
    refused = []
    a_ids, b_ids, manual = edges.a.tolist(), edges.b.tolist(), edges.manual.tolist()
    for row in np.flatnonzero(in_contest).tolist():
        ra, rb = forest.find(a_ids[row]), forest.find(b_ids[row])
        if ra == rb:
            continue
        why = forest.refusal(ra, rb, manual[row], max_ids)
        if why:
            refused.append((row, why))
            continue
        forest.union(ra, rb)
        accepted[row] = True
    person = np.where(contested[component], _roots(forest.parent), n + component)
    return Stitched(_assignment(edges, np.flatnonzero(accepted), person), _refused(edges, refused))


def _prefixed(names: np.ndarray, prefix: str) -> np.ndarray:
    """Which of these sorted names start with ``prefix`` (they are one run)."""
    start, stop = np.searchsorted(names, [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)])
    mask = np.zeros(len(names), dtype=bool)
    mask[start:stop] = True
    return mask


def _components(edges: _Edges, n: int) -> np.ndarray:
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges.a, edges.b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _roots(parent: list[int]) -> np.ndarray:
    roots = np.asarray(parent, dtype=np.int64)
    while True:  # pointer jumping until every id points at its root
        jumped = roots[roots]
        if np.array_equal(jumped, roots):
            return roots
        roots = jumped


def _block_index(blocks: pd.DataFrame | None, names: np.ndarray) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    if blocks is None or blocks.empty or not len(names):
        return out
    for a, b in zip(blocks["a"], blocks["b"]):
        ia, ib = np.searchsorted(names, [a, b]).tolist()
        if ia < len(names) and ib < len(names) and names[ia] == a and names[ib] == b and a != b:
            out.setdefault(ia, set()).add(ib)
            out.setdefault(ib, set()).add(ia)
    return out


def _assignment(edges: _Edges, accepted: np.ndarray, person: np.ndarray) -> pd.DataFrame:
    """Each identity's person and the earliest accepted link (in apply order) touching it.

    In an uncontested component that link is simply the identity's first
    link: before it the identity stood alone, so the link joined two groups.
    """
    names, n = edges.names, len(edges.names)
    none = np.iinfo(np.int64).max
    first = np.full(n, none, dtype=np.int64)
    np.minimum.at(first, edges.a[accepted], accepted)
    np.minimum.at(first, edges.b[accepted], accepted)
    linked = first != none
    row = np.where(linked, first, 0)
    other = np.where(edges.a[row] == np.arange(n), edges.b[row], edges.a[row]) if len(edges) else row
    # The anchor (whose id names the person) is the identity linked earliest, then the smallest.
    order = np.lexsort((np.arange(n), first, person))
    is_head = np.ones(n, dtype=bool)
    is_head[1:] = person[order][1:] != person[order][:-1]
    heads = order[is_head]
    ids = np.array([person_id_of(anchor) for anchor in names[heads].tolist()], dtype=object)
    person_ids = ids[np.searchsorted(person[heads], person)] if n else ids
    empty = np.full(n, "", dtype=object)
    columns = {
        "identity": names,
        "person_id": person_ids,
        "via": np.where(linked, names[other], empty) if len(edges) else empty,
        "reason": np.where(linked, edges.reasons[row], empty) if len(edges) else empty,
        "message_id": np.where(linked, edges.messages[row], empty) if len(edges) else empty,
    }
    frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
    times = edges.times[row] if len(edges) else np.full(n, np.datetime64("NaT", "s"))
    frame["linked_at"] = pd.to_datetime(pd.Series(np.where(linked, times, np.datetime64("NaT"))))
    return frame[ASSIGNMENT_COLUMNS]


def _refused(edges: _Edges, refused: list[tuple[int, str]]) -> pd.DataFrame:
    if not refused:
        return pd.DataFrame(columns=REFUSED_COLUMNS)
    rows, why = (list(x) for x in zip(*refused))
    return pd.DataFrame(
        {
            "a": edges.names[edges.a[rows]],
            "b": edges.names[edges.b[rows]],
            "reason": edges.reasons[rows],
            "message_id": edges.messages[rows],
            "at": edges.times[rows],
            "refused": why,
        }
    )
