"""Answering one request from memory: strategy by context, filters, fallbacks.

Each context tries its strategies in order and keeps the first that finds
something; the remaining slots are filled with what is popular in context, so
a visitor never seen before still gets a useful list. ``basirat evaluate``
calls ``recommend`` itself, so the figures it reports are this path's.

Whether items the visitor already viewed in this session may be shown again
is the request's ``show_seen``, set per context by ``REC_SHOW_SEEN`` (the
evaluation reports both ways). Bought items and the product on screen are
never shown; in the cart context neither is what is in the cart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .index import SiteModels
from .ranking import SERVED, RankingParams, return_chances, session_scores, with_repeats
from .session_knn import top_items

CONTEXTS = ("home", "product", "cart")


@dataclass
class Request:
    context: str = "home"
    item_id: str = ""
    person_id: str = ""
    limit: int = 10
    category: str = ""
    min_price: float | None = None
    max_price: float | None = None
    session: list = field(default_factory=list)  # (time, kind, item), oldest first
    now: float = 0.0
    show_seen: bool = False
    params: RankingParams = SERVED


@dataclass
class Answer:
    items: list
    strategy: str


def _allowed(models: SiteModels, request: Request, exclude: set):
    catalog = models.catalog

    def ok(item: str) -> bool:
        if item in exclude or item in models.out_of_stock:
            return False
        if catalog and item not in catalog:  # only products the site is seen to sell, never any id an event named
            return False
        if request.category or request.min_price is not None or request.max_price is not None:
            category, price = models.catalog.get(item, ("", None))
            if request.category and category != request.category:
                return False
            if price is None and (request.min_price is not None or request.max_price is not None):
                return False
            if request.min_price is not None and price < request.min_price:
                return False
            if request.max_price is not None and price > request.max_price:
                return False
        return True

    return ok


def _session_knn(models: SiteModels, request: Request, viewed: list) -> list:
    index = models.sessions
    if index is None or not viewed:
        return []
    params = request.params if request.show_seen else request.params.for_discovery()
    codes = index.encode(viewed[-params.last_items :])
    if not len(codes):
        return []
    scores = session_scores(index, models.sequential, codes, request.now, params)
    if request.show_seen:
        chances = return_chances(params, models.return_distances)
        scores = with_repeats(scores, codes, models.repeat_share, chances)
    best = top_items(scores, 4 * request.limit + len(codes), exclude=None if request.show_seen else codes)
    return [(index.items[c], float(scores[c]), "similar sessions") for c in best]


def _neighbors(models: SiteModels, relations: tuple, anchors: list, reason: str) -> list:
    scores: dict[str, float] = {}
    for weight, anchor in enumerate(anchors[-10:], start=1):
        for relation in relations:
            for neighbor, score in models.neighbors.get(relation, {}).get(anchor, ()):
                scores[neighbor] = scores.get(neighbor, 0.0) + score * weight / len(anchors[-10:])
    ranked = sorted(scores.items(), key=lambda p: (-p[1], p[0]))
    return [(item, score, reason) for item, score in ranked]


def _popular(models: SiteModels, context: str, reason: str) -> list:
    return [(item, score, reason) for item, score in models.popularity.get(context, ())]


def _candidates(models: SiteModels, request: Request, viewed: list, cart: list) -> list[tuple[str, list]]:
    """(strategy, candidates) in the order this context tries them."""
    anchor = [request.item_id] if request.item_id else []
    if request.context == "cart":
        basket = cart + [i for i in anchor if i not in cart]
        return [
            ("bought_together", _neighbors(models, ("bought_together",), basket, "bought together")),
            ("viewed_then_bought", _neighbors(models, ("bought_after_view",), basket + viewed, "bought by viewers")),
            ("session_knn", _session_knn(models, request, viewed + basket)),
        ]
    if request.context == "product":
        session = viewed + [i for i in anchor if not viewed or viewed[-1] != i]
        return [
            ("session_knn", _session_knn(models, request, session)),
            ("also_viewed", _neighbors(models, ("also_viewed", "bought_together"), anchor, "also viewed")),
        ]
    return [
        ("session_knn", _session_knn(models, request, viewed)),
        ("person", [(i, s, "for you") for i, s in models.person.get(request.person_id, ())]),
    ]


def _fallbacks(models: SiteModels, request: Request) -> list[tuple[str, list]]:
    out = []
    category = models.catalog.get(request.item_id, ("", 0))[0] if request.item_id else request.category
    if category:
        out.append(("popular_in_category", _popular(models, "category:" + category, "popular in " + category)))
    out.append(("trending", _popular(models, "trending", "trending")))
    out.append(("popular", _popular(models, "overall", "popular")))
    return out


def recommend(models: SiteModels, request: Request) -> Answer:
    """The list for one request; ``strategy`` names the one that filled the first slot."""
    viewed = [item for _, kind, item in request.session if kind in ("view", "cart")]
    bought = {item for _, kind, item in request.session if kind == "purchase"}
    cart = [item for _, kind, item in request.session if kind == "cart" and item not in bought]
    exclude = bought | ({request.item_id} if request.item_id else set())
    if request.context == "cart":
        exclude |= set(cart)
    if not request.show_seen:
        exclude |= set(viewed)
    ok = _allowed(models, request, exclude)
    chosen: dict[str, tuple] = {}
    strategy = ""
    for name, candidates in _candidates(models, request, viewed, cart) + _fallbacks(models, request):
        for item, score, reason in candidates:
            if item not in chosen and ok(item):
                chosen[item] = (score, reason)
                strategy = strategy or name
                if len(chosen) >= request.limit:
                    break
        if len(chosen) >= request.limit:
            break
    items = [{"itemId": i, "score": round(float(s), 6), "reason": r} for i, (s, r) in chosen.items()]
    return Answer(items=items, strategy=strategy or "none")


def similar_items(models: SiteModels, item_id: str, kind: str, limit: int, request: Request) -> Answer:
    """The item-to-item variant: neighbours of one product, then popular in its category."""
    relations = {"bought_together": ("bought_together",), "also_viewed": ("also_viewed",)}[kind]
    ok = _allowed(models, request, {item_id})
    found = [(i, s, r) for i, s, r in _neighbors(models, relations, [item_id], kind.replace("_", " ")) if ok(i)]
    strategy = kind
    if not found:
        strategy = "popular"
        for _, candidates in _fallbacks(models, Request(item_id=item_id)):
            found = [(i, s, r) for i, s, r in candidates if ok(i)]
            if found:
                break
    items = [{"itemId": i, "score": round(float(s), 6), "reason": r} for i, s, r in found[:limit]]
    return Answer(items=items, strategy=strategy if items else "none")
