"""The request path of ``/v1/recommendations``, framework-free.

Answering from memory takes tens of microseconds; Flask's request and
response machinery costs several times that. So the two GET routes are a
plain WSGI callable in front of the Flask app, which keeps preflights and
errors for other paths. Everything here reads only memory.

The public key is in the store's pages, so it proves nothing about who asks.
A personal answer (the person's history and live session) is given for the
caller's own browser id (``anonymousId``, a random id only that browser
knows) or for a ``userId`` that comes with its ``userHash`` (signed by the
store's server, see ``core.identity``); a user id without it is ignored, and
the answer is the non-personal one. Each client and each site is rate limited.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from urllib.parse import parse_qsl, urlsplit

from core.identity import valid_user_hash
from core.limits import client_ip

from .experiments import apply_arm, assign
from .serving import CONTEXTS, Request, recommend, similar_items

MAX_LIMIT = 100
MAX_ID = 256
PREFIX = "/v1/recommendations"
ITEMS = PREFIX + "/items/"
KINDS = ("also_viewed", "bought_together")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def _limit(limiter, key: str) -> None:
    if not limiter.allow(key):
        raise ApiError(429, "rate_limited", "too many requests; slow down", limiter.retry_after())


def site_for(state, args: dict, authorization: str) -> str:
    """The site whose public key came with the request (a write key is refused)."""
    key = args.get("key", "")
    if not key and authorization.lower().startswith("basic "):
        try:
            key = base64.b64decode(authorization[6:], validate=True).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            raise ApiError(401, "unauthorized", "malformed Authorization header") from None
    if not key:
        raise ApiError(401, "unauthorized", "the site's public key is required (key parameter or Basic username)")
    site_id = state.index.keys["public"].get(key)
    if site_id is None:
        state.key_missed()
        raise ApiError(401, "unauthorized", "unknown public key")
    _limit(state.site_limit, site_id)
    return site_id


def _number(args: dict, name: str, low: float, high: float, default=None, kind=float):
    text = args.get(name)
    if text is None or text == "":
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be a number") from None
    if not low <= value <= high:
        raise ApiError(400, "bad_request", f"{name} must be between {low:g} and {high:g}")
    return value


def _text(args: dict, name: str) -> str:
    value = args.get(name, "")
    if len(value) > MAX_ID:
        raise ApiError(400, "bad_request", f"{name} is longer than {MAX_ID} characters")
    return value


def parse_request(state, site_id: str, args: dict, context: str) -> tuple[Request, str, str]:
    anonymous_id, user_id = _text(args, "anonymousId"), _text(args, "userId")
    if user_id and not valid_user_hash(state.index.identity_secret(site_id), user_id, args.get("userHash")):
        user_id = ""  # anyone may name a customer; only the store's server can sign the name
    now = time.time()
    visitors = ("a:" + anonymous_id if anonymous_id else "", "u:" + user_id if user_id else "")
    req = Request(
        context=context,
        item_id=_text(args, "itemId"),
        person_id=state.index.person_of(site_id, anonymous_id, user_id),
        limit=_number(args, "limit", 1, MAX_LIMIT, 10, int),
        category=_text(args, "category"),
        min_price=_number(args, "minPrice", 0, 1e12),
        max_price=_number(args, "maxPrice", 0, 1e12),
        session=state.live.session(site_id, *visitors, now=now),
        now=now,
        show_seen=context in state.show_seen,
    )
    return req, anonymous_id, user_id


def cache_key(req: Request) -> tuple:
    """What decides an answer besides the models: parameters and live session."""
    filters = (req.category, req.min_price, req.max_price)
    return (req.context, req.item_id, req.person_id, req.limit, filters, tuple(req.session), req.show_seen, req.params)


def handle(state, path: str, args: dict, authorization: str) -> tuple[str, dict]:
    """(site, body) for a GET on ``path``; raises ``ApiError`` for bad requests."""
    site_id = site_for(state, args, authorization)
    models = state.index.site(site_id)
    experiment = arm = ""
    if path.startswith(ITEMS):
        item_id, kind = path[len(ITEMS) :], args.get("kind", "also_viewed")
        if kind not in KINDS:
            raise ApiError(400, "bad_request", "kind must be also_viewed or bought_together")
        if not item_id or len(item_id) > MAX_ID or "/" in item_id:
            raise ApiError(400, "bad_request", f"the item id must be 1 to {MAX_ID} characters")
        req, anonymous_id, user_id = parse_request(state, site_id, args, "product")
        key = ("item", site_id, models.generation, item_id, kind, cache_key(req))
        answer = state.answer(key, lambda: similar_items(models, item_id, kind, req.limit, req))
        context = "item:" + kind
    else:
        context = args.get("context", "home")
        if context not in CONTEXTS:
            raise ApiError(400, "bad_request", f"context must be one of {', '.join(CONTEXTS)}")
        req, anonymous_id, user_id = parse_request(state, site_id, args, context)
        if context in ("product", "cart") and not req.item_id and not req.session:
            req.context = "home"
            req.show_seen = "home" in state.show_seen
        running = state.index.experiments.get(site_id)
        if running and anonymous_id:
            experiment, arm = running[0], assign(site_id, running[0], anonymous_id, running[1])
            req = apply_arm(req, arm)
        key = ("rec", site_id, models.generation, cache_key(req))
        answer = state.answer(key, lambda: recommend(models, req))
    recommendation_id = "r_" + secrets.token_hex(10)
    state.served(
        {
            "site_id": site_id,
            "recommendation_id": recommendation_id,
            "served_at": int(req.now),
            "strategy": answer.strategy,
            "context": context,
            "model_version": models.model_version,
            "anonymous_id": anonymous_id,
            "user_id": user_id,
            "item_ids": [i["itemId"] for i in answer.items],
            "experiment": experiment,
            "arm": arm,
        }
    )
    body = {
        "items": answer.items,
        "strategy": answer.strategy,
        "modelVersion": str(models.model_version),
        "recommendationId": recommendation_id,
    }
    if arm:
        body["arm"] = arm
    return site_id, body


def allowed_origin(state, origin: str, site_id: str | None) -> bool:
    """Is ``origin`` one of the site's domains (or a subdomain)? Any site's, for a preflight."""
    host = (urlsplit(origin).hostname or "").lower()
    if not host:
        return False
    domains = state.index.keys["domains"]
    candidates = domains.get(site_id, []) if site_id else [d for ds in domains.values() for d in ds]
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in candidates)


class FastPath:
    """WSGI: GETs of the endpoint answered here, anything else passed to ``fallback``."""

    def __init__(self, state, fallback):
        self.state, self.fallback = state, fallback

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET" or not (path == PREFIX or path.startswith(ITEMS)):
            return self.fallback(environ, start_response)
        started = time.perf_counter()
        args = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        site_id, retry_after = None, None
        try:
            _limit(self.state.client_limit, client_ip(environ, self.state.config))
            site_id, body = handle(self.state, path, args, environ.get("HTTP_AUTHORIZATION", ""))
            status = "200 OK"
        except ApiError as exc:
            body = {"error": exc.code, "message": exc.message}
            status = {400: "400 Bad Request", 401: "401 Unauthorized", 429: "429 Too Many Requests"}[exc.status]
            retry_after = exc.retry_after
        payload = json.dumps(body, separators=(",", ":")).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        if retry_after is not None:
            headers.append(("Retry-After", str(retry_after)))
        # Server-Timing (W3C): the time this process spent on the answer, in ms.
        headers.append(("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.3f}"))
        origin = environ.get("HTTP_ORIGIN", "")
        if origin:
            headers.append(("Vary", "Origin"))
            if site_id and allowed_origin(self.state, origin, site_id):
                headers.append(("Access-Control-Allow-Origin", origin))
        start_response(status, headers)
        return [payload]
