"""Visitors: the list with search, one person's profile, manual merge and unmerge.

The profile data comes from ``warehouse.queries.people``; merge and unmerge go through
the stitching job's public functions so the page shows the new map at once,
and each is recorded with the signed-in user as actor.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.routing import PathConverter

from core.text import fold, matches
from warehouse.queries import directory as directory_store
from warehouse.queries import people

from .access import current_site, current_user, role_required, warehouse
from .directory import lookup
from .pages import NavItem, paginate, sorting

bp = Blueprint("visitors", __name__)
NAV = [NavItem(_l("Visitors"), "visitors.index", order=20)]
MAX_QUERY = 256
PER_PAGE = 50
SEEN_WITHIN = ("1", "7", "30", "90")


class IdentityConverter(PathConverter):
    """Any tracked id in a URL path: ids come from the tracker, so they may hold
    newlines, a leading slash or ``//``, which the ``path`` converter refuses."""

    regex = r"[\s\S]+?"
    part_isolating = False


bp.record_once(lambda state: state.app.url_map.converters.setdefault("identity", IdentityConverter))


@bp.route("/s/<site_id>/visitors")
def index(site_id: str):
    site = current_site()
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    rows = search(site["site_id"], query) if query else None
    order = sorting(people.VISITOR_SORTS, "last_seen")
    buyers = request.args.get("buyers") == "1"
    days = int(request.args["days"]) if request.args.get("days") in SEEN_WITHIN else 0
    page, recent = None, None
    if not query:
        page = paginate(people.visitor_count(warehouse(), site["site_id"], buyers, days), per_page=PER_PAGE)
        recent = people.recent_visitors(
            warehouse(), site["site_id"], page.limit, page.offset, order.sort, order.descending, buyers, days
        )
    shown = rows if rows is not None else recent
    who = labels(site["site_id"], shown or [])
    args = {**({"buyers": 1} if buyers else {}), **({"days": days} if days else {})}
    return render_template(
        "visitors/index.html",
        query=query,
        rows=rows,
        recent=recent,
        who=who,
        page=page,
        sorting=order,
        args=args,
        sort_args={**args, "sort": order.sort, "dir": "desc" if order.descending else "asc"},
        buyers=buyers,
        days=days,
        seen_within=SEEN_WITHIN,
    )


def labels(site_id: str, rows: list[dict]) -> dict[str, dict]:
    """Each row's person as lists show them, by its person id: the stitched person's contact,
    else that of the one identity it stands for (one lookup for the page)."""
    raw = {r["person_id"]: r["identity"].partition(":")[2] for r in rows}
    found = lookup(site_id, list(raw) + list(raw.values()))
    out = {}
    for person, key in raw.items():
        contact = found.get(person) if found.get(person, {}).get("identities") else found.get(key)
        out[person] = contact
    return out


def search(site_id: str, query: str) -> list[dict]:
    """People matching the query as typed, then as folded (Persian or Arabic digits and letters typed
    for an order id, a phone or an email find what the store sent in Latin digits)."""
    rows = people.search(warehouse(), site_id, query)
    folded = fold(query)
    if folded and folded != query:
        seen = {r["person_id"] for r in rows}
        rows += [r for r in people.search(warehouse(), site_id, folded) if r["person_id"] not in seen]
    seen = {r["person_id"] for r in rows}
    return rows + [r for r in told(site_id, query) if r["person_id"] not in seen]


def told(site_id: str, query: str) -> list[dict]:
    """People whose name, email or phone (as they told the store) holds the query: every word of it,
    folded, or its digits (four or more) within the phone's digits."""
    folded = fold(query)
    words = sorted(folded.split(), key=len, reverse=True)
    digits = "".join(c for c in folded if c.isdigit())
    if not words:
        return []
    longest = sorted(query.split(), key=len, reverse=True)[0]
    out = {}
    for row in directory_store.find_told(warehouse(), site_id, longest, words[0], digits if len(digits) >= 4 else ""):
        if not (matches(query, row["text"]) or (len(digits) >= 4 and digits in row["digits"])):
            continue
        person = people.resolve(warehouse(), site_id, row["identity"])
        if person and person not in out:
            out[person] = {"person_id": person, "identity": row["identity"], "matched": "contact"}
    return list(out.values())


def _resolve(site_id: str, ref: str) -> tuple[str, str]:
    person = people.resolve(warehouse(), site_id, ref)
    if person is None:
        abort(404)
    return person, "" if ref.startswith("p_") else people.identity_of(ref)


@bp.route("/s/<site_id>/people/<identity:ref>", merge_slashes=False)
def show(site_id: str, ref: str):
    site = current_site()
    person, hint = _resolve(site["site_id"], ref)
    profile = people.profile(warehouse(), site["site_id"], person, hint)
    records = _source_records(site["site_id"], [r["identity"] for r in profile["identities"]])
    return render_template("visitors/show.html", profile=profile, ref=ref, records=records)


def _source_records(site_id: str, identities: list[str]) -> list[dict]:
    """Each customer record of the person with the decided pairs that joined it (weight, agreeing fields)."""
    from warehouse.queries import matching

    found = matching.records_of(warehouse(), site_id, identities)
    if not found:
        return []
    mine = set(identities)
    pairs = [m for m in matching.matches_of(warehouse(), site_id, [r["uid"] for r in found]) if m["decision"] == "link"]
    for record in found:
        record["joined_by"] = [
            {**m, "other": m["b"] if m["a"] == record["uid"] else m["a"]}
            for m in pairs
            if record["uid"] in (m["a"], m["b"]) and {m["a"], m["b"]} <= mine
        ]
    return found


@bp.route("/s/<site_id>/visitors/job-results")
def job_results(site_id: str):
    """A person's segments, scores and recommendations, fetched by the profile page
    once it has shown the rest (``fragment=1``), or as a page of its own."""
    site = current_site()
    ref = request.args.get("ref", "")[:MAX_QUERY]
    person, hint = _resolve(site["site_id"], ref)
    who = people.identities(warehouse(), site["site_id"], person, hint)
    results = people.job_results(warehouse(), site["site_id"], person, who)
    page = "visitors/_job_results.html" if request.args.get("fragment") else "visitors/job_results.html"
    return render_template(page, results=results, person_id=person, ref=ref)


@bp.route("/s/<site_id>/people/<identity:ref>/merge", methods=["POST"], merge_slashes=False)
@role_required("admin")
def merge(site_id: str, ref: str):
    from mining.stitching import merge as merge_ids

    site = current_site()
    person, hint = _resolve(site["site_id"], ref)
    other = request.form.get("other", "").strip()[:MAX_QUERY]
    target = people.resolve(warehouse(), site["site_id"], other) if other else None
    if target is None:
        flash(_("No visitor “%(other)s” on this site.", other=other), "error")
        return redirect(url_for("visitors.show", site_id=site["site_id"], ref=ref))
    mine = _main_identity(people.identities(warehouse(), site["site_id"], person, hint))
    merge_ids(
        warehouse(),
        site["site_id"],
        mine,
        people.identity_of(other),
        _actor(),
        _note(),
        int(current_app.config["IDENTITY_MAX_IDS"]),
    )
    flash(_("Merged. The change is in the audit trail."), "success")
    return redirect(url_for("visitors.show", site_id=site["site_id"], ref=people.identity_of(other)))


@bp.route("/s/<site_id>/people/<identity:ref>/unmerge", methods=["POST"], merge_slashes=False)
@role_required("admin")
def unmerge(site_id: str, ref: str):
    from mining.stitching import unmerge as unmerge_id

    site = current_site()
    person, hint = _resolve(site["site_id"], ref)
    identity = request.form.get("identity", "")
    owned = {r["identity"] for r in people.identities(warehouse(), site["site_id"], person, hint)}
    if identity not in owned:
        abort(404)
    try:
        unmerge_id(
            warehouse(), site["site_id"], identity, _actor(), _note(), int(current_app.config["IDENTITY_MAX_IDS"])
        )
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("visitors.show", site_id=site["site_id"], ref=ref))
    flash(
        _("%(identity)s was taken out of this person. The change is in the audit trail.", identity=identity), "success"
    )
    return redirect(url_for("visitors.show", site_id=site["site_id"], ref=identity))


def _main_identity(rows: list[dict]) -> str:
    """The identity that stands for a person: a known customer first, else the earliest."""
    known = [r["identity"] for r in rows if r["identity"].startswith(("user:", "customer:"))]
    return (known or [r["identity"] for r in rows])[0]


def _actor() -> str:
    user = current_user() or {}
    return str(user.get("email", "admin"))


def _note() -> str:
    return request.form.get("note", "").strip()[:500]
