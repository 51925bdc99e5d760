"""``GET /v1/recommendations``: the storefront's endpoint, answered from memory.

Auth is the site's public key (``key`` query parameter or the HTTP Basic
username); a write key is refused here just as a public key is refused by the
collector. Models, keys and the visitors' live sessions are kept in memory
and refreshed by background threads, so a request never waits on the
warehouse. Every answer gets a ``recommendationId``; the id with its strategy
and context is logged in batches so clicks can be attributed later.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

from basirat import settings
from warehouse import connect
from warehouse import recommendations as store

from .index import Index, Poller
from .live import LiveSessions, Tail
from .serving import CONTEXTS, Request, recommend, similar_items

MAX_LIMIT = 100
MAX_ID = 256


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class RecommenderState:
    """What the endpoint keeps in memory, and the threads that keep it fresh."""

    def __init__(self, warehouse, config: dict):
        self.warehouse = warehouse
        self.index = Index(warehouse)
        self.live = LiveSessions(float(config["SESSION_TIMEOUT_MINUTES"]))
        self.tail = Tail(warehouse, self.live)
        self._served: list[dict] = []
        self._served_lock = threading.Lock()
        self._last_wake = 0.0
        self.index.refresh(force=True)
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
        self.flush()

    def key_missed(self) -> None:
        """An unknown key may belong to a site created a moment ago: reload soon, at most once a second."""
        now = time.monotonic()
        if now - self._last_wake > 1.0:
            self._last_wake = now
            self.pollers[0].wake()

    def served(self, row: dict) -> None:
        with self._served_lock:
            self._served.append(row)

    def flush(self) -> int:
        with self._served_lock:
            rows, self._served = self._served, []
        return store.write_served(self.warehouse, rows)


def create_app(config: dict | None = None, warehouse=None, start: bool = True) -> Flask:
    """The endpoint app; mounted at ``/v1/recommendations`` by ``basirat serve``."""
    app = Flask(__name__)
    app.config.from_mapping(settings.load())
    if config:
        app.config.from_mapping(config)
    if warehouse is None:
        warehouse = connect(app.config["WAREHOUSE_URL"], cluster=app.config["CLICKHOUSE_CLUSTER"])
    state = RecommenderState(warehouse, app.config)
    app.extensions["basirat.recommender"] = state.start() if start else state
    _routes(app, state)
    _hooks(app, state)
    return app


def _site_for(state: RecommenderState) -> str:
    key = request.args.get("key", "")
    header = request.headers.get("Authorization", "")
    if not key and header.lower().startswith("basic "):
        try:
            key = base64.b64decode(header[6:], validate=True).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            raise ApiError(401, "unauthorized", "malformed Authorization header") from None
    if not key:
        raise ApiError(401, "unauthorized", "the site's public key is required (key parameter or Basic username)")
    site_id = state.index.keys["public"].get(key)
    if site_id is None:
        state.key_missed()
        raise ApiError(401, "unauthorized", "unknown public key")
    return site_id


def _number(name: str, low: float, high: float, default=None, kind=float):
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be a number") from None
    if not low <= value <= high:
        raise ApiError(400, "bad_request", f"{name} must be between {low:g} and {high:g}")
    return value


def _text(name: str) -> str:
    value = request.args.get(name, "")
    if len(value) > MAX_ID:
        raise ApiError(400, "bad_request", f"{name} is longer than {MAX_ID} characters")
    return value


def _request(state: RecommenderState, site_id: str, context: str) -> tuple[Request, str, str]:
    anonymous_id, user_id = _text("anonymousId"), _text("userId")
    now = time.time()
    return (
        Request(
            context=context,
            item_id=_text("itemId"),
            person_id=state.index.person_of(site_id, anonymous_id, user_id),
            limit=_number("limit", 1, MAX_LIMIT, 10, int),
            category=_text("category"),
            min_price=_number("minPrice", 0, 1e12),
            max_price=_number("maxPrice", 0, 1e12),
            session=state.live.session(
                site_id, "a:" + anonymous_id if anonymous_id else "", "u:" + user_id if user_id else "", now=now
            ),
            now=now,
        ),
        anonymous_id,
        user_id,
    )


def _answer(state: RecommenderState, site_id: str, answer, context: str, anonymous_id: str, user_id: str):
    models = state.index.site(site_id)
    recommendation_id = "r_" + secrets.token_hex(10)
    state.served(
        {
            "site_id": site_id,
            "recommendation_id": recommendation_id,
            "served_at": int(time.time()),
            "strategy": answer.strategy,
            "context": context,
            "model_version": models.model_version,
            "anonymous_id": anonymous_id,
            "user_id": user_id,
            "item_ids": [i["itemId"] for i in answer.items],
        }
    )
    return jsonify(
        {
            "items": answer.items,
            "strategy": answer.strategy,
            "modelVersion": str(models.model_version),
            "recommendationId": recommendation_id,
        }
    )


def _allowed_origin(state: RecommenderState, origin: str, site_id: str | None) -> bool:
    host = (urlsplit(origin).hostname or "").lower()
    if not host:
        return False
    domains = state.index.keys["domains"]
    candidates = domains.get(site_id, []) if site_id else [d for ds in domains.values() for d in ds]
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in candidates)


def _routes(app: Flask, state: RecommenderState) -> None:
    @app.get("/v1/recommendations", provide_automatic_options=False)
    def recommendations():
        site_id = _site_for(state)
        context = request.args.get("context", "home")
        if context not in CONTEXTS:
            raise ApiError(400, "bad_request", f"context must be one of {', '.join(CONTEXTS)}")
        req, anonymous_id, user_id = _request(state, site_id, context)
        if context in ("product", "cart") and not req.item_id and not req.session:
            req.context = "home"
        answer = recommend(state.index.site(site_id), req)
        return _answer(state, site_id, answer, context, anonymous_id, user_id)

    @app.get("/v1/recommendations/items/<item_id>", provide_automatic_options=False)
    def item_to_item(item_id: str):
        site_id = _site_for(state)
        kind = request.args.get("kind", "also_viewed")
        if kind not in ("also_viewed", "bought_together"):
            raise ApiError(400, "bad_request", "kind must be also_viewed or bought_together")
        if len(item_id) > MAX_ID:
            raise ApiError(400, "bad_request", f"itemId is longer than {MAX_ID} characters")
        req, anonymous_id, user_id = _request(state, site_id, "product")
        answer = similar_items(state.index.site(site_id), item_id, kind, req.limit, req)
        return _answer(state, site_id, answer, "item:" + kind, anonymous_id, user_id)

    @app.route("/v1/recommendations", methods=["OPTIONS"])
    @app.route("/v1/recommendations/items/<item_id>", methods=["OPTIONS"])
    def preflight(item_id: str | None = None):
        response = Response(status=204)
        origin = request.headers.get("Origin", "")
        if _allowed_origin(state, origin, None):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Authorization"
            response.headers["Access-Control-Max-Age"] = "86400"
        response.headers["Vary"] = "Origin"
        return response


def _hooks(app: Flask, state: RecommenderState) -> None:
    @app.after_request
    def cors(response):
        origin = request.headers.get("Origin", "")
        if origin and request.method == "GET":
            site_id = state.index.keys["public"].get(request.args.get("key", ""))
            if site_id is None and "Authorization" in request.headers:
                site_id = _quiet_site(state)
            if site_id and _allowed_origin(state, origin, site_id):
                response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return jsonify({"error": exc.code, "message": exc.message}), exc.status

    @app.errorhandler(404)
    def not_found(_):
        return jsonify({"error": "not_found", "message": "no such endpoint"}), 404

    @app.errorhandler(405)
    def not_allowed(_):
        return jsonify({"error": "method_not_allowed", "message": "method not allowed"}), 405


def _quiet_site(state: RecommenderState) -> str | None:
    try:
        return _site_for(state)
    except ApiError:
        return None
