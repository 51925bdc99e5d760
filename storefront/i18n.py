"""The demo store in its visitor's language: Flask-Babel, a language switch, prices per locale.

The language is the one the visitor chose, else the install's ``LOCALE``
(``basirat demo --locale fa``), else the browser's. Product names stay as the
catalogue has them; the shop's own words and its category names are translated.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l

from core import locales

TRANSLATIONS = Path(__file__).parent / "translations"
CURRENCY = "GBP"  # the Online Retail catalogue's prices
CATEGORY_LABELS = {
    "christmas": _l("Christmas"),
    "lighting": _l("Lights & candles"),
    "kitchen": _l("Kitchen & tea time"),
    "bags": _l("Bags & storage"),
    "stationery": _l("Paper & stationery"),
    "kids": _l("Kids & party"),
    "garden": _l("Garden & outdoors"),
    "home": _l("Home & décor"),
    "gifts": _l("Gifts & treats"),
}
bp = Blueprint("store_i18n", __name__)


def available() -> list[str]:
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"))
    return ["en", *[tag for tag in found if tag != "en"]]


def select_locale() -> str:
    choices = current_app.extensions["storefront.locales"]
    for tag in (session.get("locale"), current_app.config.get("LOCALE")):
        if tag in choices:
            return tag
    return request.accept_languages.best_match(choices) or "en"


def tag() -> str:
    return str(get_locale() or "en")


@bp.route("/store/language", methods=["POST"])
def choose():
    chosen = request.form.get("locale", "")
    if chosen in current_app.extensions["storefront.locales"]:
        session["locale"] = chosen
    back = request.form.get("next", "")
    local = back.startswith("/") and not back.startswith("//") and "\\" not in back
    return redirect(back if local else url_for("store.home"))


def install(app) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.extensions["storefront.locales"] = available()
    Babel(app, locale_selector=select_locale)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters.update(
        price=lambda value: locales.money(value, tag(), CURRENCY),
        number=lambda value: locales.number(value, tag()),
        category=lambda slug, name="": CATEGORY_LABELS.get(slug, name),
    )
    app.context_processor(
        lambda: {
            "locale": tag(),
            "direction": locales.direction(tag()),
            "languages": [(t, locales.native_name(t)) for t in app.extensions["storefront.locales"]],
        }
    )
    app.register_blueprint(bp)
