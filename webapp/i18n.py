"""The admin in its reader's language: Flask-Babel, the language switch, and the template filters
that write numbers, money and dates for the user's locale and the site's calendar.

The language is the user's choice (kept with their account), else the one
chosen before signing in, else the install's ``LOCALE``, else the browser's
``Accept-Language``. A language is available when its catalogue is under
``webapp/translations`` (docs/translations.md says how to add one).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, g, redirect, request, session, url_for
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l

from core import locales
from warehouse.queries import display

from . import access

TRANSLATIONS = Path(__file__).parent / "translations"
bp = Blueprint("i18n", __name__)
# The segments job's own segments (mining.segments.RULE_NAMES), named in the reader's language;
# the ids stay in URLs, exports and the API, and custom segments show as their authors named them.
SEGMENT_NAMES = {
    "champions": _l("champions"),
    "loyal": _l("loyal"),
    "cannot_lose": _l("cannot_lose"),
    "at_risk": _l("at_risk"),
    "hibernating": _l("hibernating"),
    "about_to_sleep": _l("about_to_sleep"),
    "need_attention": _l("need_attention"),
    "potential_loyalists": _l("potential_loyalists"),
    "new_customers": _l("new_customers"),
    "promising": _l("promising"),
    "cart_abandoners": _l("cart_abandoners"),
    "window_shoppers": _l("window_shoppers"),
    "deal_seekers": _l("deal_seekers"),
    "repeat_buyers": _l("repeat_buyers"),
    "new_visitors": _l("new_visitors"),
    "returning_visitors": _l("returning_visitors"),
}


def available() -> list[str]:
    """``en`` (the language of the source) and every language with a compiled catalogue."""
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"))
    return ["en", *[tag for tag in found if tag != "en"]]


def select_locale() -> str:
    choices = current_app.extensions["basirat.locales"]
    user = g.get("user")
    if user is not None:
        if "user_locale" not in g:
            g.user_locale = display.user_locale(access.warehouse(), user["user_id"])
        if g.user_locale in choices:
            return g.user_locale
    for tag in (session.get("locale"), current_app.config.get("LOCALE")):
        if tag in choices:
            return tag
    return request.accept_languages.best_match(choices) or "en"


def site_display() -> dict:
    """The current site's calendar, time zone and currency; the install's defaults without one."""
    if "display" not in g:
        config = current_app.config
        # Pages of no site (sites, users, tokens) follow the site the user is working on.
        site = g.get("site")
        site_id = site["site_id"] if site else (session.get("site_id") if g.get("user") else None)
        stored = display.site_display(access.warehouse(), site_id) if site_id else None
        g.display = stored or {"calendar": config["CALENDAR"], "timezone": config["TIMEZONE"], **display.NO_MONEY}
    return g.display


def tag() -> str:
    return str(get_locale() or "en")


def number(value, decimals: int = 0) -> str:
    """For messages built in Python: a number in the reader's digits."""
    return locales.number(value, tag(), decimals)


def clear_session() -> None:
    """End a session (sign-in, sign-out) but keep the language the browser chose."""
    chosen = session.get("locale")
    session.clear()
    if chosen:
        session["locale"] = chosen


@bp.route("/locale", methods=["POST"])
@access.public
def choose():
    """Remember the language chosen in the top bar (with the account when signed in), then go back."""
    chosen = request.form.get("locale", "")
    if chosen in current_app.extensions["basirat.locales"]:
        session["locale"] = chosen
        if session.get("user_id"):
            access.load_user()
            if g.user is not None:
                display.save_user_locale(access.warehouse(), g.user["user_id"], chosen)
    back = request.form.get("next", "")
    local = back.startswith("/") and not back.startswith("//") and "\\" not in back
    return redirect(back if local else url_for("home"))


def _filters() -> dict:
    def number(value, decimals: int = 0):
        return locales.number(value, tag(), decimals)

    def percent(value, decimals: int = 0):
        return locales.percent(value, tag(), decimals)

    def money(value, currency: str | None = None):
        d = site_display()
        return locales.money(value, tag(), d["currency"] or currency or "", d["money_unit"])

    def amount(value, currency: str | None = None):
        d = site_display()
        return locales.amount(value, tag(), d["currency"] or currency or "", d["money_unit"])

    def unit(currency: str | None = None):
        d = site_display()
        return locales.unit_name(tag(), d["currency"] or currency or "", d["money_unit"])

    def date(value):
        return locales.date(value, tag(), site_display()["calendar"])

    def datetime(value, seconds: bool = False):
        d = site_display()
        return locales.datetime(value, tag(), d["calendar"], d["timezone"], seconds)

    def month(value):
        return locales.month(value, tag(), site_display()["calendar"])

    def digits(value):
        return locales.digits(value, tag())

    def segment(name):
        return str(SEGMENT_NAMES.get(name, name))

    return {
        "number": number,
        "percent": percent,
        "money": money,
        "amount": amount,
        "unit": unit,
        "date": date,
        "datetime": datetime,
        "month": month,
        "digits": digits,
        "segment": segment,
    }


def _context() -> dict:
    current = tag()
    return {
        "locale": current,
        "direction": locales.direction(current),
        "calendar": site_display()["calendar"],
        "timezone": site_display()["timezone"],
        "languages": [(t, locales.native_name(t)) for t in current_app.extensions["basirat.locales"]],
    }


def install(app) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.extensions["basirat.locales"] = available()
    Babel(app, locale_selector=select_locale)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts {% trans %} blocks
    app.jinja_env.filters.update(_filters())
    app.context_processor(_context)
    app.register_blueprint(bp)
