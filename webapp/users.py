"""Users (admins only): list, create, change role and sites, deactivate."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from warehouse import sites as site_store
from warehouse import users as user_store

from . import accounts
from .access import role_required, warehouse
from .pages import NavItem, paginate

bp = Blueprint("users", __name__)
NAV = [NavItem("Users", "users.index", order=95, site_scoped=False, role="admin")]


def _chosen_sites() -> list[str]:
    known = {s["site_id"] for s in site_store.list_sites(warehouse())}
    return [s for s in request.form.getlist("site_ids") if s in known]


@bp.route("/users")
@role_required("admin")
def index():
    page = paginate(user_store.count_users(warehouse()), per_page=50)
    rows = user_store.list_users(warehouse(), page.limit, page.offset)
    names = {s["site_id"]: s["name"] for s in site_store.list_sites(warehouse())}
    return render_template("users/index.html", rows=rows, page=page, site_names=names)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def create():
    all_sites = site_store.list_sites(warehouse())
    form = {"email": request.form.get("email", ""), "role": request.form.get("role", "analyst")}
    if request.method == "POST":
        password = accounts.new_password()
        try:
            user = accounts.create(warehouse(), form["email"], form["role"], password, _chosen_sites())
        except accounts.AccountError as exc:
            flash(str(exc).capitalize() + ".", "error")
            return render_template("users/new.html", form=form, all_sites=all_sites), 400
        return render_template("users/created.html", created=user, password=password)
    return render_template("users/new.html", form=form, all_sites=all_sites)


def _editable(user_id: str) -> dict:
    user = user_store.get_user(warehouse(), user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<user_id>", methods=["GET", "POST"])
@role_required("admin")
def edit(user_id: str):
    user = _editable(user_id)
    all_sites = site_store.list_sites(warehouse())
    if request.method == "POST":
        role = request.form.get("role", user["role"])
        active = 1 if request.form.get("active") == "1" else 0
        if user["user_id"] == g.user["user_id"] and (role != "admin" or not active):
            flash("You cannot remove your own admin role or deactivate yourself.", "error")
            return redirect(url_for("users.edit", user_id=user_id))
        if role not in user_store.ROLES:
            abort(400)
        user_store.update_user(warehouse(), user_id, role=role, active=active, site_ids=_chosen_sites())
        flash(f"{user['email']} saved.", "success")
        return redirect(url_for("users.index"))
    return render_template("users/edit.html", edited=user, all_sites=all_sites)


@bp.route("/users/<user_id>/password", methods=["POST"])
@role_required("admin")
def reset_password(user_id: str):
    user = _editable(user_id)
    password = accounts.new_password()
    accounts.set_password(warehouse(), user["user_id"], password)
    return render_template("users/created.html", created=user, password=password, reset=True)
