"""Pure mining steps shared by the jobs: sessions, baskets, context popularity, people.

Every function takes and returns DataFrames; the jobs in ``jobs.py`` do the
reading and writing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cooccurrence import session_decay

KIND_WEIGHTS = {"view": 1.0, "cart": 3.0, "purchase": 5.0}


def sessionize(events: pd.DataFrame, timeout_minutes: float = 30.0) -> pd.DataFrame:
    """Add ``session_id``: a visitor's events with no gap longer than the timeout.

    Parameters
    ----------
    events : DataFrame
        At least ``site_id, anonymous_id, time`` (unix seconds).
    timeout_minutes : float
        Inactivity that ends a visit.

    Returns
    -------
    DataFrame
        Sorted by site, visitor and time, with ``session_id`` as
        ``"<anonymous_id>#<n>"`` (unique within a site).
    """
    frame = events.sort_values(["site_id", "anonymous_id", "time"], kind="stable").reset_index(drop=True)
    if frame.empty:
        return frame.assign(session_id=pd.Series(dtype="str"))
    times = frame["time"].to_numpy(np.float64)
    visitor = (frame["site_id"] + "\x00" + frame["anonymous_id"]).to_numpy()
    new = np.r_[True, (visitor[1:] != visitor[:-1]) | (np.diff(times) > timeout_minutes * 60)]
    frame["session_id"] = frame["anonymous_id"] + "#" + pd.Series(np.cumsum(new), dtype="str")
    return frame


def baskets(interactions: pd.DataFrame) -> pd.DataFrame:
    """``site_id, basket_id, item_id``: each session's purchases, and its cart adds.

    A purchase basket is what one visit bought; a cart basket is what one
    visit put in the cart, bought or not, so stores with few orders still get
    "bought together" rules from intent.
    """
    chosen = interactions[interactions["kind"].isin(["cart", "purchase"])]
    out = chosen.assign(basket_id=chosen["kind"] + ":" + chosen["session_id"])
    return out[["site_id", "basket_id", "item_id"]].drop_duplicates().reset_index(drop=True)


def context_popularity(
    interactions: pd.DataFrame,
    categories: pd.DataFrame,
    now: float,
    trending_days: float = 3.0,
    per_context: int = 100,
    min_visitors: int = 1,
    products: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Popular items overall, per category and trending, per site.

    These lists go to every visitor of the store, so they count visitors, not
    events: each visitor gives an item one vote, the weight of their deepest
    interaction with it (a purchase outweighs a view), and an item needs
    ``min_visitors`` distinct visitors. A few fake events cannot put an id there.

    Parameters
    ----------
    interactions : DataFrame
        ``site_id, item_id, kind, time``, and the visitor's ``anonymous_id``
        (else ``user_id``); without them each row counts as its own visitor.
    categories : DataFrame
        ``site_id, item_id, category`` (empty categories are ignored).
    now : float
        Reference time (unix seconds).
    trending_days : float
        The recent window; trending compares its daily rate with the rate
        before it, so a steady best-seller does not trend.
    per_context : int
        Items kept per context.
    min_visitors : int
        Distinct visitors an item needs (in the recent window, for trending).
    products : DataFrame, optional
        ``site_id, item_id``: the products each site is known to sell (its
        catalogue). A site listed here gets only those; others are not filtered.

    Returns
    -------
    DataFrame
        ``site_id, context, item_id, score`` where context is ``overall``,
        ``trending`` or ``category:<name>``; best first.
    """
    frame = interactions.assign(weight=interactions["kind"].map(KIND_WEIGHTS).astype("float64").fillna(1.0))
    frame["visitor"] = _visitors(frame)
    if products is not None:
        frame = known_products(frame, products)
    recent_cut = now - trending_days * 86400
    votes = popularity_votes(frame, now, recent_cut)
    return popularity_from_votes(votes, categories, recent_cut, trending_days, per_context, min_visitors)


VOTE_COLUMNS = ["overall", "visitors", "recent", "recent_visitors", "older", "older_start"]


def popularity_votes(frame: pd.DataFrame, now: float, recent_cut: float) -> pd.DataFrame:
    """Per site and item, the visitors' votes that ``popularity_from_votes`` ranks.

    ``frame`` has ``site_id, item_id, visitor, weight, time``. Each visitor
    votes once per item: ``overall`` sums their largest decayed weight (30-day
    half-life), ``recent`` and ``older`` their largest weight at or after, and
    before, ``recent_cut``; ``visitors`` and ``recent_visitors`` count them;
    ``older_start`` is the earliest older interaction. Sums over disjoint sets
    of visitors add up; the warehouse computes them from each visitor's
    folded first and last times per kind (``warehouse.queries.visitor_votes``).
    """
    keys = ["site_id", "item_id"]
    recent = frame["time"].to_numpy() >= recent_cut
    per_visitor = frame.assign(
        d=frame["weight"] * session_decay(frame["time"], now, 30.0),
        r=frame["weight"].where(recent, 0.0),
        o=frame["weight"].where(~recent, 0.0),
        first_older=frame["time"].astype("float64").where(~recent, np.inf),
    )
    best = per_visitor.groupby([*keys, "visitor"], sort=False).agg(
        d=("d", "max"), r=("r", "max"), o=("o", "max"), first_older=("first_older", "min")
    )
    grouped = best.groupby(level=keys)
    return pd.DataFrame(
        {
            "overall": grouped["d"].sum(),
            "visitors": grouped.size(),
            "recent": grouped["r"].sum(),
            "recent_visitors": grouped["r"].agg(lambda r: int((r > 0).sum())),
            "older": grouped["o"].sum(),
            "older_start": grouped["first_older"].min(),
        }
    ).reset_index()


def popularity_from_votes(
    votes: pd.DataFrame,
    categories: pd.DataFrame,
    recent_cut: float,
    trending_days: float = 3.0,
    per_context: int = 100,
    min_visitors: int = 1,
) -> pd.DataFrame:
    """``site_id, context, item_id, score`` from ``popularity_votes``' rows (see ``context_popularity``)."""
    keys = ["site_id", "item_id"]
    if votes.empty:
        return pd.DataFrame(columns=["site_id", "context", "item_id", "score"])
    overall = votes[votes["visitors"] >= min_visitors].rename(columns={"overall": "score"})
    parts = [overall[[*keys, "score"]].assign(context="overall")]
    # The span before the recent window, per site: from its earliest older interaction to the window.
    earliest = votes[votes["older"] > 0].groupby("site_id")["older_start"].min()
    recent = votes[votes["recent_visitors"] > 0]
    # (as floats: mapping no rows keeps the ids' string type, which has no subtraction)
    older_start = recent["site_id"].map(earliest).astype("float64")
    span = ((recent_cut - older_start) / 86400.0).clip(lower=1.0).fillna(1.0)
    trending = (recent["recent"] / trending_days) / (1.0 + recent["older"] / span)
    keep = (recent["recent"] >= 2) & (recent["recent_visitors"] >= min_visitors)
    parts.append(recent.loc[keep, keys].assign(score=trending[keep], context="trending"))
    named = categories[categories["category"] != ""]
    by_category = overall[[*keys, "score"]].merge(named[["site_id", "item_id", "category"]], on=keys)
    parts.append(by_category.assign(context="category:" + by_category["category"]).drop(columns="category"))
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["site_id", "context", "score", "item_id"], ascending=[True, True, False, True])
    return out.groupby(["site_id", "context"], sort=False).head(per_context)[["site_id", "context", "item_id", "score"]]


def _visitors(frame: pd.DataFrame) -> pd.Series:
    """Who each row is from: the anonymous id, else the user id; the row itself when neither is known."""
    if "anonymous_id" not in frame:
        return pd.Series(np.arange(len(frame)).astype(str), index=frame.index)
    users = "user:" + frame["user_id"] if "user_id" in frame else pd.Series("", index=frame.index)
    return frame["anonymous_id"].where(frame["anonymous_id"] != "", users)


def known_products(frame: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Rows about a product of the site's catalogue, and every row of a site without one."""
    known = products[["site_id", "item_id"]].drop_duplicates().assign(known=True)
    marked = frame.merge(known, on=["site_id", "item_id"], how="left")
    keep = marked["known"].notna().to_numpy() | ~frame["site_id"].isin(set(known["site_id"])).to_numpy()
    return frame[keep]


def recent_sessions(interactions: pd.DataFrame, per_site: int = 50_000, max_items: int = 50) -> pd.DataFrame:
    """The latest sessions with two or more viewed items, as arrays, for session-kNN.

    Returns
    -------
    DataFrame
        ``site_id, session_id, item_ids, last_seen`` (unix seconds).
    """
    views = interactions[interactions["kind"].isin(["view", "cart"])].sort_values("time", kind="stable")
    if views.empty:
        return pd.DataFrame(columns=["site_id", "session_id", "item_ids", "last_seen"])
    grouped = views.groupby(["site_id", "session_id"], sort=False)
    out = grouped.agg(item_ids=("item_id", lambda s: list(s)[-max_items:]), last_seen=("time", "max")).reset_index()
    out = out[out["item_ids"].map(lambda items: len(set(items)) >= 2)]
    out = out.sort_values(["site_id", "last_seen"]).groupby("site_id", sort=False).tail(per_site)
    return out.reset_index(drop=True)


def person_items(
    history: pd.DataFrame,
    neighbors: pd.DataFrame,
    now: float,
    per_person: int = 20,
    max_history: int = 20,
    per_item: int = 20,
) -> pd.DataFrame:
    """Recommendations from a person's whole history, on every device.

    Parameters
    ----------
    history : DataFrame
        ``site_id, person_id, item_id, kind, time``.
    neighbors : DataFrame
        ``site_id, item_id, neighbor_id, score`` (any relations).
    now : float
        Reference time; older history counts less (30-day half-life).
    per_person : int
        Items kept per person.
    max_history : int
        Most recent distinct items of a person that vote.
    per_item : int
        Best neighbours of each history item that receive a vote; the three
        limits bound the work to people x 400 rows whatever the catalogue.

    Returns
    -------
    DataFrame
        ``site_id, person_id, item_id, score``, never an item the person bought.
    """
    if history.empty or neighbors.empty:
        return pd.DataFrame(columns=["site_id", "person_id", "item_id", "score"])
    frame = history.assign(
        weight=history["kind"].map(KIND_WEIGHTS).astype("float64").fillna(1.0)
        * session_decay(history["time"], now, 30.0),
        bought=(history["kind"] == "purchase").astype("uint8"),
    )
    keys = ["site_id", "person_id", "item_id"]
    votes = frame.groupby(keys, as_index=False).agg(
        weight=("weight", "sum"), bought=("bought", "max"), last=("time", "max")
    )
    votes = votes.sort_values(["site_id", "person_id", "last", "item_id"], ascending=[True, True, False, True])
    votes["votes"] = votes.groupby(["site_id", "person_id"], sort=False).cumcount() < max_history
    return person_items_from_votes(votes.drop(columns="last"), neighbors, per_person, per_item)


def person_items_from_votes(
    votes: pd.DataFrame, neighbors: pd.DataFrame, per_person: int = 20, per_item: int = 20
) -> pd.DataFrame:
    """``person_items`` from each person's per-item ``weight``, ``bought`` flag and ``votes`` flag.

    The warehouse computes these a part of the people at a time
    (``warehouse.queries.mining.person_votes``); a row that does not vote is
    there because the person bought the item, which is never recommended back.
    """
    columns = ["site_id", "person_id", "item_id", "score"]
    if votes.empty or neighbors.empty:
        return pd.DataFrame(columns=columns)
    voting = votes[votes["votes"].astype(bool)][["site_id", "person_id", "item_id", "weight"]]
    best = neighbors.sort_values("score", ascending=False).groupby(["site_id", "item_id"], sort=False).head(per_item)
    joined = voting.merge(best, on=["site_id", "item_id"])
    joined["score"] = joined["weight"] * joined["score"]
    scored = joined.groupby(["site_id", "person_id", "neighbor_id"], as_index=False)["score"].sum()
    bought = votes[votes["bought"].astype(bool)][["site_id", "person_id", "item_id"]].drop_duplicates()
    scored = scored.rename(columns={"neighbor_id": "item_id"}).merge(
        bought.assign(bought=1), on=["site_id", "person_id", "item_id"], how="left"
    )
    scored = scored[scored["bought"].isna()].drop(columns="bought")
    scored = scored.sort_values(["site_id", "person_id", "score", "item_id"], ascending=[True, True, False, True])
    return scored.groupby(["site_id", "person_id"], sort=False).head(per_person)[columns].reset_index(drop=True)


def catalog_changes(tracked: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``tracked`` that are new or differ from the stored catalogue.

    Writing only changes, and keeping the stored stock flag where events
    say nothing about stock (``out_of_stock`` -1), keeps a flag set by hand
    until events say something different about the product.
    """
    columns = ["site_id", "product_id", "name", "category", "price", "out_of_stock"]
    merged = tracked[columns].merge(current[columns], on=["site_id", "product_id"], how="left", suffixes=("", "_old"))
    unknown = merged["out_of_stock"].astype(int) < 0
    merged.loc[unknown, "out_of_stock"] = merged.loc[unknown, "out_of_stock_old"].fillna(0)
    merged["out_of_stock"] = merged["out_of_stock"].astype(int)
    changed = merged["name_old"].isna()
    for column in ("name", "category", "price", "out_of_stock"):
        changed |= merged[column] != merged[column + "_old"]
    return merged.loc[changed, columns].reset_index(drop=True)


def with_person(history: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """``history`` with a ``person_id``: the stitched person, else the row's user id, else its anonymous id.

    A user id the browser only claimed (``channel_id`` 2) is not the row's: it counts as its browser's.
    """
    own_user = (history["user_id"] != "") & (history["channel_id"] != 2)
    identity = ("anon:" + history["anonymous_id"]).where(
        ~own_user,
        history["channel_id"].map({1: "customer:"}).fillna("user:") + history["user_id"],
    )
    keyed = history.assign(identity=identity).merge(links, on=["site_id", "identity"], how="left")
    raw = keyed["user_id"].where(own_user.to_numpy(), keyed["anonymous_id"])
    keyed["person_id"] = keyed["person_id"].fillna(raw)
    return keyed.drop(columns="identity")
