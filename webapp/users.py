"""Users (admins only): list, create, change role and sites, deactivate.

Every route asks ``access.can_manage``: a site-limited admin sees and manages
only accounts within its own sites, and cannot make an account reach further
(an admin without sites reaches every site). Anything else is a 403.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from warehouse.queries import sites as site_store
from warehouse.queries import users as user_store

from . import accounts
from .access import can_manage, manageable_users, role_required, visible_sites, warehouse
from .pages import NavItem, paginate, sort_rows, sorting

bp = Blueprint("users", __name__)
NAV = [NavItem(_l("Users"), "users.index", order=95, site_scoped=False, role="admin")]


def _chosen_sites() -> list[str]:
    known = {s["site_id"] for s in site_store.list_sites(warehouse())}
    return [s for s in request.form.getlist("site_ids") if s in known]


def _form_context() -> dict:
    """The sites the signed-in admin may hand out, and whether ticking none means every site."""
    return {"all_sites": visible_sites(), "every_site": accounts.reaches_every_site(g.user)}


USER_SORTS = {
    "email": lambda u: u["email"].lower(),
    "role": lambda u: u["role"],
    "status": lambda u: int(u["active"]),
    "created": lambda u: u["created_at"],
}


@bp.route("/users")
@role_required("admin")
def index():
    order = sorting(USER_SORTS, "email", descending=False)
    users = sort_rows(manageable_users(g.user), order, USER_SORTS)
    page = paginate(len(users), per_page=50)
    rows = users[page.offset : page.offset + page.limit]
    names = {s["site_id"]: s["name"] for s in visible_sites()}
    return render_template("users/index.html", rows=rows, page=page, site_names=names, sorting=order)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def create():
    form = {"email": request.form.get("email", ""), "role": request.form.get("role", "analyst")}
    if request.method == "POST":
        site_ids = _chosen_sites()
        if not can_manage(g.user, {"role": form["role"], "site_ids": site_ids}):
            abort(403)
        password = accounts.new_password()
        try:
            user = accounts.create(warehouse(), form["email"], form["role"], password, site_ids)
        except accounts.AccountError as exc:
            flash(str(exc).capitalize() + ".", "error")
            return render_template("users/new.html", form=form, **_form_context()), 400
        return render_template("users/created.html", created=user, password=password)
    return render_template("users/new.html", form=form, **_form_context())


def _editable(user_id: str) -> dict:
    """The account, if the signed-in admin may manage it: 404 unknown, 403 outside its sites."""
    user = user_store.get_user(warehouse(), user_id)
    if user is None:
        abort(404)
    if not can_manage(g.user, user):
        abort(403)
    return user


@bp.route("/users/<user_id>", methods=["GET", "POST"])
@role_required("admin")
def edit(user_id: str):
    user = _editable(user_id)
    if request.method == "POST":
        role = request.form.get("role", user["role"])
        active = 1 if request.form.get("active") == "1" else 0
        if user["user_id"] == g.user["user_id"] and (role != "admin" or not active):
            flash(_("You cannot remove your own admin role or deactivate yourself."), "error")
            return redirect(url_for("users.edit", user_id=user_id))
        if role not in user_store.ROLES:
            abort(400)
        site_ids = _chosen_sites()
        if not can_manage(g.user, {**user, "role": role, "site_ids": site_ids}):
            abort(403)
        accounts.update(warehouse(), user, role=role, active=active, site_ids=site_ids)
        flash(_("%(email)s saved.", email=user["email"]), "success")
        return redirect(url_for("users.index"))
    return render_template("users/edit.html", edited=user, **_form_context())


@bp.route("/users/<user_id>/password", methods=["POST"])
@role_required("admin")
def reset_password(user_id: str):
    user = _editable(user_id)
    password = accounts.new_password()
    accounts.set_password(warehouse(), user["user_id"], password)
    return render_template("users/created.html", created=user, password=password, reset=True)
