"""The shop's pages. Each page names the tracker calls it makes (``track``);
``store.js`` makes them, so pages stay free of inline scripts."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from . import cart
from .i18n import CATEGORY_LABELS

bp = Blueprint("store", __name__, static_folder="static", template_folder="templates")


def _catalog():
    return current_app.extensions["storefront.catalog"]


def _customers() -> set[str]:
    return current_app.extensions["storefront.customers"]


def _page(template: str, track: list | None = None, **context):
    """Render with the once-only calls queued by the previous request (login, logout, feedback)."""
    calls = session.pop("track", []) + (track or [])
    return render_template(template, track=calls, catalog=_catalog(), cart_count=cart.count(), **context)


def _queue(*call) -> None:
    session["track"] = session.get("track", []) + [list(call)]


def _products_event(lines: list[cart.Line]) -> list[dict]:
    return [line.product.as_event(line.quantity) for line in lines]


@bp.route("/")
def home():
    return _page("home.html", popular=_catalog().popular[:12])


@bp.route("/category/<slug>")
def category(slug: str):
    names = dict(_catalog().categories)
    if slug not in names:
        abort(404)
    products = _catalog().in_category(slug)[:48]
    listed = {"list_id": slug, "category": names[slug], "products": [p.as_event() for p in products[:20]]}
    return _page("list.html", [["viewList", listed]], title=CATEGORY_LABELS.get(slug, names[slug]), products=products)


@bp.route("/search")
def search():
    query = request.args.get("q", "").strip()[:100]
    products = _catalog().search(query)
    return _page("list.html", [["search", {"query": query}]], title=f"“{query}”", products=products, query=query)


@bp.route("/product/<product_id>")
def product(product_id: str):
    item = _catalog().get(product_id)
    if item is None:
        abort(404)
    return _page("product.html", [["viewProduct", item.as_event()]], product=item, related=_catalog().related(item))


@bp.route("/api/products")
def products_json():
    """Cards for the recommendation slots: the endpoint answers ids only."""
    found = [_catalog().get(i) for i in request.args.get("ids", "").split(",")[:24]]
    return jsonify([_card(p) for p in found if p is not None])


def _card(p) -> dict:
    url = url_for(".product", product_id=p.product_id)
    return {"id": p.product_id, "name": p.name, "price": p.price, "category": p.category, "url": url}


@bp.route("/cart")
def view_cart():
    lines = cart.lines(_catalog())
    viewed = {"products": _products_event(lines)}
    return _page("cart.html", [["viewCart", viewed]], lines=lines, total=cart.total(lines))


@bp.route("/cart/add", methods=["POST"])
def cart_add():
    product_id = request.form.get("product_id", "")
    if _catalog().get(product_id) is None:
        abort(404)
    cart.add(product_id, request.form.get("quantity", 1))
    return redirect(url_for(".view_cart"), code=303)


@bp.route("/cart/update", methods=["POST"])
def cart_update():
    cart.update(request.form.get("product_id", ""), request.form.get("quantity", 0))
    return redirect(url_for(".view_cart"), code=303)


@bp.route("/checkout", methods=["GET", "POST"])
def checkout():
    lines = cart.lines(_catalog())
    if request.method == "POST":
        order_id = cart.place_order(_catalog())
        return redirect(url_for(".confirmation", order_id=order_id) if order_id else url_for(".view_cart"), code=303)
    if not lines:
        return redirect(url_for(".view_cart"))
    started = {"value": cart.total(lines), "currency": "GBP", "products": _products_event(lines)}
    return _page("checkout.html", [["checkout", started]], lines=lines, total=cart.total(lines))


@bp.route("/order/<order_id>")
def confirmation(order_id: str):
    found = cart.order(_catalog(), order_id)
    if found is None:
        abort(404)
    lines, first = found
    total = cart.total(lines)
    completed = {"order_id": order_id, "total": total, "revenue": total, "currency": "GBP"}
    calls = [["order", {**completed, "products": _products_event(lines)}]] if first else []
    return _page("order.html", calls, order_id=order_id, lines=lines, total=total)


@bp.route("/feedback", methods=["POST"])
def feedback():
    order_id = request.form.get("order_id", "")
    try:
        score = max(1, min(int(request.form.get("score", "")), 5))
    except ValueError:
        return redirect(url_for(".confirmation", order_id=order_id))
    _queue("feedback", score, request.form.get("comment", "")[:1000], {"order_id": order_id, "topic": "order"})
    session["feedback_given"] = order_id
    return redirect(url_for(".confirmation", order_id=order_id), code=303)


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = ""
    if request.method == "POST":
        number = request.form.get("customer", "").strip().removeprefix("cust-")
        if number in _customers():
            session["user"] = f"cust-{number}"
            # As a real store's server does: the page's identify carries the id signed with the identity secret.
            signed = {"userHash": current_app.extensions["storefront.keys"].user_hash(session["user"])}
            traits = {"email": f"customer{number}@example.com", "country": "France"}
            _queue("identify", session["user"], traits, signed)
            return redirect(url_for(".home"), code=303)
        error = _("No customer with that number.")
    return _page("login.html", customers=sorted(_customers())[:12], error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    session.pop("user", None)
    _queue("reset")
    return redirect(url_for(".home"), code=303)


@bp.route("/lookbook/", defaults={"section": ""})
@bp.route("/lookbook/<section>")
def lookbook(section: str):
    """A single-page section: the first load is served, later moves are pushState."""
    return _page("lookbook.html", section=section, picks=_catalog().popular[:24])
