"""``GET /v1/recommendations``: the storefront's endpoint, answered from memory.

Auth is the site's public key (``key`` query parameter or the HTTP Basic
username); a write key is refused here just as a public key is refused by the
collector. A user id is honoured only with its ``userHash``, and clients and
sites are rate limited (``endpoint``). Models, keys and the visitors' live sessions are kept in memory
and refreshed by background threads, so a request never waits on the
warehouse. Every answer gets a ``recommendationId``; the id with its strategy
and context is logged in batches so clicks can be attributed later.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, Response, jsonify, request

from core import limits
from core.apps import new_app
from warehouse import WarehouseError
from warehouse.queries import rec_experiments as experiment_store
from warehouse.queries import recommendations as store

from .cache import AnswerCache
from .endpoint import FastPath, allowed_origin
from .index import Index, Poller
from .live import LiveSessions, Tail

ARM_KEYS = ("experiment", "arm")


class RecommenderState:
    """What the endpoint keeps in memory, and the threads that keep it fresh."""

    def __init__(self, warehouse, config: dict):
        self.warehouse = warehouse
        self.index = Index(warehouse)
        self.live = LiveSessions(float(config["SESSION_TIMEOUT_MINUTES"]))
        self.tail = Tail(warehouse, self.live)
        self.cache = AnswerCache()
        # Per client address and per site, shared by the workers when the server shared them (``limits.share``).
        self.client_limit = limits.RateLimiter(float(config["REC_IP_RATE_LIMIT"]), buckets=limits.table("rec_ip"))
        self.site_limit = limits.RateLimiter(float(config["REC_SITE_RATE_LIMIT"]), buckets=limits.table("rec_site"))
        self.config = config
        self.show_seen = frozenset(c.strip() for c in str(config.get("REC_SHOW_SEEN", "")).split(",") if c.strip())
        self._served: list[dict] = []
        self._served_lock = threading.Lock()
        self._last_wake = 0.0
        self.index.refresh(force=True)
        self.tail()  # start with the visits in progress, not an empty memory
        self.pollers = [
            Poller([self.index.refresh], float(config["RECOMMENDER_POLL_SECONDS"]), "basirat-rec-index"),
            Poller([self.tail, self.flush], float(config["RECOMMENDER_TAIL_SECONDS"]), "basirat-rec-tail"),
        ]

    def start(self) -> "RecommenderState":
        for poller in self.pollers:
            poller.start()
        return self

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        try:
            self.flush()
        except WarehouseError:
            pass

    def key_missed(self) -> None:
        """An unknown key may belong to a site created a moment ago: reload soon, at most once a second."""
        now = time.monotonic()
        if now - self._last_wake > 1.0:
            self._last_wake = now
            self.pollers[0].wake()

    def answer(self, key: tuple, compute):
        """The cached answer for ``key``, computed on a miss."""
        found = self.cache.get(key)
        if found is None:
            found = compute()
            self.cache.put(key, found)
        return found

    def served(self, row: dict) -> None:
        with self._served_lock:
            self._served.append(row)

    def flush(self) -> int:
        """Write the logged answers (one insert per second at most, from the tail thread)."""
        with self._served_lock:
            rows, self._served = self._served, []
        arms = [r for r in rows if r.get("arm")]
        written = store.write_served(self.warehouse, [{k: v for k, v in r.items() if k not in ARM_KEYS} for r in rows])
        experiment_store.write_arms(self.warehouse, arms)
        return written


def create_app(config: dict | None = None, warehouse=None, start: bool = True) -> Flask:
    """The endpoint app; mounted at ``/v1/recommendations`` by ``basirat serve``."""
    app, warehouse = new_app(__name__, config, warehouse)
    state = RecommenderState(warehouse, app.config)
    app.extensions["basirat.recommender"] = state.start() if start else state
    _routes(app, state)
    app.wsgi_app = FastPath(state, app.wsgi_app)
    return app


def _routes(app: Flask, state: RecommenderState) -> None:
    @app.route("/v1/recommendations", methods=["OPTIONS"])
    @app.route("/v1/recommendations/items/<item_id>", methods=["OPTIONS"])
    def preflight(item_id: str | None = None):
        response = Response(status=204)
        origin = request.headers.get("Origin", "")
        if allowed_origin(state, origin, None):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Authorization"
            response.headers["Access-Control-Max-Age"] = "86400"
        response.headers["Vary"] = "Origin"
        return response

    @app.errorhandler(404)
    def not_found(_):
        return jsonify({"error": "not_found", "message": "no such endpoint"}), 404

    @app.errorhandler(405)
    def not_allowed(_):
        return jsonify({"error": "method_not_allowed", "message": "method not allowed"}), 405
