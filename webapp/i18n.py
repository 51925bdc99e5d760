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
    "champions": _l("Champions"),
    "loyal": _l("Loyal"),
    "cannot_lose": _l("Cannot lose them"),
    "at_risk": _l("At risk"),
    "hibernating": _l("Hibernating"),
    "about_to_sleep": _l("About to sleep"),
    "need_attention": _l("Need attention"),
    "potential_loyalists": _l("Potential loyalists"),
    "new_customers": _l("New customers"),
    "promising": _l("Promising"),
    "cart_abandoners": _l("Cart abandoners"),
    "window_shoppers": _l("Window shoppers"),
    "deal_seekers": _l("Deal seekers"),
    "repeat_buyers": _l("Repeat buyers"),
    "new_visitors": _l("New visitors"),
    "returning_visitors": _l("Returning visitors"),
}
# One line each: who is in it (the rules of mining.segments, RFM scores 1-5 by quintile), and what a
# member's value counts: money spent (or left in the cart), product views or active days.
SEGMENT_ABOUT = {
    "champions": (_l("Ordered recently and often: recency score 5, frequency 4 or 5."), "money"),
    "loyal": (_l("Order often (frequency 4 or 5), recency 3 or 4."), "money"),
    "cannot_lose": (_l("Ordered the most (frequency 5) but not lately (recency 1 or 2)."), "money"),
    "at_risk": (_l("Ordered fairly often (frequency 3 or 4) but not lately (recency 1 or 2)."), "money"),
    "hibernating": (_l("Few orders, long ago: recency and frequency 1 or 2."), "money"),
    "about_to_sleep": (_l("Middling recency (3), few orders (frequency 1 or 2)."), "money"),
    "need_attention": (_l("Middling recency and frequency (3 and 3)."), "money"),
    "potential_loyalists": (_l("Recent (recency 4 or 5) with a few orders (frequency 2 or 3)."), "money"),
    "new_customers": (_l("Just placed their first order: recency 5, frequency 1."), "money"),
    "promising": (_l("Ordered once, recently (recency 4)."), "money"),
    "cart_abandoners": (
        _l("Added to the cart since their last order, more than an hour ago and within 30 days."),
        "cart",
    ),
    "window_shoppers": (_l("Viewed three products or more, never added to the cart or ordered."), "views"),
    "deal_seekers": (_l("Used a coupon or a discount on at least half of their orders."), "money"),
    "repeat_buyers": (_l("Ordered twice or more."), "money"),
    "new_visitors": (_l("First seen within the last 7 days."), "days"),
    "returning_visitors": (_l("Came back on another day and were seen within the last 30 days."), "days"),
}
VALUE_MEANINGS = {
    "money": _l("spent in all"),
    "cart": _l("left in the cart"),
    "views": _l("product views"),
    "days": _l("days active"),
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


def money(value, currency: str | None = None) -> str:
    """An amount in the site's currency and unit (rials or tomans), in the reader's digits."""
    d = site_display()
    return locales.money(value, tag(), d["currency"] or currency or "", d["money_unit"])


def segment_about(name: str) -> str:
    """The segment's one-line definition; empty for custom segments (their conditions say it)."""
    return str(SEGMENT_ABOUT[name][0]) if name in SEGMENT_ABOUT else ""


def segment_value(name: str, value) -> str:
    """A member's (or a segment's total) value with what it counts: money, product views or days."""
    kind = SEGMENT_ABOUT[name][1] if name in SEGMENT_ABOUT else None
    if kind is None:
        return "–"
    if kind in ("money", "cart"):
        shown = money(value)
    else:
        shown = locales.number(value, tag())
    return f"{shown} {VALUE_MEANINGS[kind]}"


def _filters() -> dict:
    def number(value, decimals: int = 0):
        return locales.number(value, tag(), decimals)

    def percent(value, decimals: int = 0):
        return locales.percent(value, tag(), decimals)

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
        "segment_about": segment_about,
        "segment_value": segment_value,
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
