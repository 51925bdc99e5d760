"""The demo store's browsing that did not end in an order, modelled on its invoices.

The Online Retail invoices record only what was bought. A store's clickstream
is mostly visits that buy nothing: products looked at, searches, carts left
behind. Without them the demo's funnel is 100% at every step and there is no
abandonment to show. This module adds those visits, drawn from a small model
whose parts come from the invoices wherever the invoices can say something:

- which products are looked at: a product's chance to be the first one seen
  is its share of invoices (fitted);
- which product is looked at next: a walk over products bought together,
  weighted by how many invoices hold both (fitted), or a popular product;
- when: each customer browses between 30 days before their first order and
  their last; hours of the day come from the invoices' own hours (fitted);
- who: each customer's own two devices (the ones their orders came from), and
  visitors who never buy, one or two visits each.

What invoices cannot tell is set from published figures and stated here:

- ``visits_per_order``: browsing visits per order of a known customer
  (3: a quarter of a returning customer's visits end in an order);
- ``cart_abandonment``: the share of carts not bought, 70% (the Baymard
  Institute's average of 49 studies of online checkout, 2024); the chance
  that a browsing visit adds to its cart is solved from it;
- ``checkout_rate``: abandoned carts that reached the checkout (40%);
- ``search_rate``: visits that begin with a search (30%), for a word of the
  first product's description;
- ``mean_views``: products looked at in a visit (geometric, mean 4).

The draw is seeded: the same invoices give the same visits, so loading the
demo twice stores everything once.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class BrowsingModel:
    visits_per_order: float = 3.0
    anonymous_per_customer: float = 3.0
    cart_abandonment: float = 0.70
    checkout_rate: float = 0.40
    search_rate: float = 0.30
    mean_views: float = 4.0
    seed: int = 20111209


COLUMNS = ["visit", "anonymous_id", "customer", "at", "step", "action", "product_id", "query"]


def product_model(invoices: pd.DataFrame) -> tuple[pd.Series, dict[str, list[tuple[str, int]]]]:
    """Each product's share of invoices, and the products bought with it (most often first)."""
    baskets = invoices.groupby("InvoiceNo")["StockCode"].agg(lambda s: sorted(set(s)))
    share = pd.Series(Counter(code for basket in baskets for code in basket), dtype="float64")
    share = (share / share.sum()).sort_index()
    pairs: Counter = Counter()
    for basket in baskets:
        if len(basket) <= 60:  # a wholesaler's 200-line order says little about what goes together
            pairs.update(itertools.permutations(basket, 2))
    neighbours: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (a, b), count in pairs.items():
        neighbours[a].append((b, count))
    for a in neighbours:
        neighbours[a].sort(key=lambda item: (-item[1], item[0]))
    return share, dict(neighbours)


def cart_rate(model: BrowsingModel, orders: int, browsing_visits: int) -> float:
    """Chance a browsing visit adds to its cart, so that carts left behind are ``cart_abandonment`` of all.

    Every order had a cart; ``left / (left + orders) = abandonment`` gives the carts to leave.
    """
    if browsing_visits == 0:
        return 0.0
    left = orders * model.cart_abandonment / (1 - model.cart_abandonment)
    return min(1.0, left / browsing_visits)


DEFAULT = BrowsingModel()


def _visitors(orders: pd.DataFrame, model: BrowsingModel, rng: np.random.Generator) -> list[tuple]:
    """(device, customer or None, day) of every browsing visit, customers' on their own devices."""
    visitors: list[tuple] = []
    for customer, own in orders.groupby("customer"):
        first, last = own["at"].min() - pd.Timedelta(days=30), own["at"].max()
        for n in range(rng.poisson(model.visits_per_order * len(own))):
            visitors.append((f"anon-{int(customer)}-{n % 2}", int(customer), first + (last - first) * rng.random()))
    start, end = orders["at"].min(), orders["at"].max()
    for k in range(int(model.anonymous_per_customer * orders["customer"].nunique())):
        for _ in range(1 + int(rng.random() < 0.3)):
            visitors.append((f"anon-browser-{k}", None, start + (end - start) * rng.random()))
    return sorted(visitors, key=lambda v: (v[2], v[0]))


def _steps(catalog: tuple, model: BrowsingModel, adds: float, rng: np.random.Generator) -> list[tuple]:
    """(action, product, query) of one visit: a search perhaps, a walk over products, a cart perhaps."""
    products, weights, neighbours, names = catalog
    steps = []
    seen = [str(rng.choice(products, p=weights))]
    if rng.random() < model.search_rate:
        words = [w for w in str(names.get(seen[0], "")).lower().split() if len(w) > 3]
        if words:
            steps.append(("search", None, str(rng.choice(words))))
    for _ in range(rng.geometric(1 / model.mean_views) - 1):
        near = neighbours.get(seen[-1], [])
        if near and rng.random() < 0.7:
            seen.append(str(rng.choice([code for code, _ in near[:10]])))
        else:
            seen.append(str(rng.choice(products, p=weights)))
    steps += [("view", code, None) for code in dict.fromkeys(seen)]
    if rng.random() < adds:
        steps.append(("add", str(rng.choice(seen)), None))
        if rng.random() < model.checkout_rate:
            steps.append(("checkout", None, None))
    return steps


def browsing_visits(invoices: pd.DataFrame, model: BrowsingModel = DEFAULT) -> pd.DataFrame:
    """One row per action of every browsing visit: ``view``, ``search``, ``add``, ``checkout``.

    ``invoices`` are the retail lines (``read_retail``); times are the invoices' own (shift them
    with the orders). Cancellations (invoice numbers starting with C) are not orders.
    """
    rng = np.random.default_rng(model.seed)
    bought = invoices[~invoices["InvoiceNo"].str.startswith("C")]
    share, neighbours = product_model(bought)
    names = bought.drop_duplicates("StockCode").set_index("StockCode")["Description"]
    catalog = (share.index.to_numpy(), share.to_numpy(), neighbours, names)
    orders = bought.groupby("InvoiceNo").agg(customer=("CustomerID", "first"), at=("InvoiceDate", "min"))
    hours = orders["at"].dt.hour.to_numpy()
    visitors = _visitors(orders, model, rng)
    adds = cart_rate(model, len(orders), len(visitors))
    rows = []
    for number, (anonymous_id, customer, day) in enumerate(visitors):
        at = day.normalize() + pd.Timedelta(hours=int(rng.choice(hours)), seconds=int(rng.integers(0, 3600)))
        offset = 0
        for step, (action, product, query) in enumerate(_steps(catalog, model, adds, rng)):
            when = at + pd.Timedelta(seconds=offset)
            rows.append((f"b{number}", anonymous_id, customer, when, step, action, product, query))
            offset += int(20 + rng.integers(0, 70))
    return pd.DataFrame(rows, columns=COLUMNS)
