"""The endpoint's in-memory index: every site's latest models, ready to serve.

A background thread polls ``rec_models`` (one small GROUP BY) and the
catalogue's newest version; when a site has a newer model it loads that site
again and swaps the whole ``SiteModels`` in one assignment, so a request sees
either the old index or the new one, never half of each.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from warehouse import WarehouseError
from warehouse.queries import rec_experiments as experiment_store
from warehouse.queries import recommendations as store
from warehouse.queries import sites as site_store

from .ranking import encode_rules, return_pattern
from .session_knn import SessionIndex

log = logging.getLogger("basirat.recommender")
MODELS = {
    "rules": "rec_item_neighbors",
    "cooccurrence": "rec_item_neighbors",
    "sequential": "rec_item_neighbors",
    "sessions": "rec_sessions",
    "person": "rec_person_items",
    "popularity": "rec_popularity",
}


@dataclass
class SiteModels:
    """One site's models as plain dicts and arrays."""

    versions: dict = field(default_factory=dict)
    generation: int = 0  # changes on every reload: answers cached under it expire with it
    neighbors: dict = field(default_factory=dict)  # relation -> item -> [(neighbor, score)]
    sessions: SessionIndex | None = None
    sequential: dict = field(default_factory=dict)  # session item code -> (codes, scores): "followed by"
    repeat_share: float = 0.0  # share of clicks that return to an item of the session
    return_distances: np.ndarray = field(default_factory=lambda: np.ones(2) / 2)  # how far back they return
    person: dict = field(default_factory=dict)  # person -> [(item, score)]
    popularity: dict = field(default_factory=dict)  # context -> [(item, score)]
    catalog: dict = field(default_factory=dict)  # item -> (category, price)
    out_of_stock: frozenset = frozenset()

    @property
    def model_version(self) -> int:
        return max(self.versions.values(), default=0)


def _grouped(frame: pd.DataFrame, key: str, item: str) -> dict:
    out: dict = {}
    for k, i, s in zip(frame[key].tolist(), frame[item].tolist(), frame["score"].tolist()):
        out.setdefault(k, []).append((i, s))
    for pairs in out.values():
        pairs.sort(key=lambda p: -p[1])
    return out


def build_site(frames: dict[str, pd.DataFrame], catalog: pd.DataFrame, versions: dict) -> SiteModels:
    """Turn loaded frames into a ``SiteModels`` (pure: tests call it directly)."""
    models = SiteModels(versions=dict(versions))
    parts = [frames[name] for name in ("rules", "cooccurrence", "sequential") if name in frames and len(frames[name])]
    neighbors = pd.concat(parts, ignore_index=True) if parts else None
    if neighbors is not None:
        for relation, group in neighbors.groupby("relation"):
            models.neighbors[relation] = _grouped(group, "item_id", "neighbor_id")
    sessions = frames.get("sessions")
    if sessions is not None and len(sessions):
        exploded = sessions.explode("item_ids").dropna(subset=["item_ids"])
        exploded = exploded.rename(columns={"item_ids": "item_id", "last_seen": "time"})
        models.sessions = SessionIndex(exploded[["session_id", "item_id", "time"]])
        models.sequential = encode_rules(models.sessions, models.neighbors.get("followed_by", {}))
        models.repeat_share, models.return_distances = return_pattern(models.sessions)
    person = frames.get("person")
    if person is not None and len(person):
        models.person = _grouped(person, "person_id", "item_id")
    popularity = frames.get("popularity")
    if popularity is not None and len(popularity):
        models.popularity = _grouped(popularity, "context", "item_id")
    if len(catalog):
        models.catalog = dict(zip(catalog["item_id"], zip(catalog["category"], catalog["price"].astype(float))))
        models.out_of_stock = frozenset(catalog.loc[catalog["out_of_stock"].astype(int) == 1, "item_id"])
    return models


class Index:
    """Sites' models, person links and keys, refreshed by ``refresh``."""

    def __init__(self, warehouse):
        self.warehouse = warehouse
        self.sites: dict[str, SiteModels] = {}
        self.links: dict[tuple[str, str], str] = {}
        self.keys = {"public": {}, "domains": {}, "identity": {}}
        self.experiments: dict = {}  # site -> (experiment name, arms)
        self._seen: dict = {}
        self._catalog_version = -1
        self._generation = 0
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> int:
        """Reload sites whose models changed; returns how many were reloaded."""
        with self._lock:
            index = site_store.key_index(self.warehouse)
            self.keys = {"public": index["public"], "domains": index["domains"], "identity": index["identity"]}
            self.experiments = experiment_store.active_experiments(self.warehouse)
            latest = store.latest_versions(self.warehouse)
            catalog_version = store.catalog_version(self.warehouse)
            changed = {site for key, v in latest.items() if self._seen.get(key) != v for site in [key[0]]}
            if force or catalog_version != self._catalog_version:
                changed |= {site for site, _ in latest} | set(self.sites)
            if changed:
                self._load_links()
            for site in changed:
                self._load_site(site, {model: v for (s, model), v in latest.items() if s == site})
            self._seen, self._catalog_version = latest, catalog_version
            return len(changed)

    def _load_site(self, site: str, versions: dict) -> None:
        frames = {
            name: store.load_model(self.warehouse, MODELS[name], site, v)
            for name, v in versions.items()
            if name in MODELS
        }
        models = build_site(frames, store.catalog(self.warehouse, site), versions)
        self._generation += 1
        models.generation = self._generation
        self.sites[site] = models
        log.info("recommendations: loaded site %s at version %s", site, self.sites[site].model_version)

    def _load_links(self) -> None:
        links = store.person_links(self.warehouse)
        self.links = dict(zip(zip(links["site_id"], links["identity"]), links["person_id"]))

    def site(self, site_id: str) -> SiteModels:
        return self.sites.get(site_id) or SiteModels()

    def identity_secret(self, site_id: str) -> str:
        """The secret the site's server signs user ids with ('' for a site without one)."""
        return self.keys["identity"].get(site_id, ("", False))[0]

    def person_of(self, site_id: str, anonymous_id: str, user_id: str) -> str:
        """The person a request's ids belong to, as the person job keyed its recommendations."""
        raw = user_id or anonymous_id
        return self.links.get((site_id, store.request_identity(anonymous_id, user_id)), raw)


class Poller:
    """A daemon thread that runs ``tasks`` every ``seconds`` until stopped."""

    def __init__(self, tasks: list, seconds: float, name: str):
        self.tasks, self.seconds = tasks, seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "Poller":
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            for task in self.tasks:
                try:
                    task()
                except (WarehouseError, ValueError, KeyError) as exc:
                    log.warning("recommendations: %s failed: %s", getattr(task, "__name__", task), exc)
            self._wake.wait(self.seconds)
            self._wake.clear()
