"""What a page family declares: its navigation entries, and pagination.

A page family is a module ``webapp/<name>.py`` with a blueprint ``bp`` and a
list ``NAV`` of ``NavItem``; ``webapp.PAGES`` lists the modules. Site-scoped
entries link to the current site (their endpoint takes ``site_id``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    order: int = 50
    site_scoped: bool = True
    role: str | None = None
    # Other endpoints of the family that belong under this entry (a list's detail pages).
    covers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pagination:
    """One page of a list: ``limit``/``offset`` for the query, links for the macro."""

    page: int
    per_page: int
    total: int

    @property
    def limit(self) -> int:
        return self.per_page

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_item(self) -> int:
        return min(self.total, self.offset + 1)

    @property
    def last_item(self) -> int:
        return min(self.total, self.offset + self.per_page)


def paginate(total: int, per_page: int = 50) -> Pagination:
    """The page asked for by ``?page=N`` (clamped to what exists)."""
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    pages = max(1, -(-total // per_page))
    return Pagination(page=min(max(1, page), pages), per_page=per_page, total=total)


@dataclass(frozen=True)
class Sorting:
    """The column a list is sorted by (one of the list's own names) and the direction."""

    sort: str
    descending: bool

    def keep(self, args: dict) -> dict:
        """``args`` with this sort, for links (paging, export) that must not lose it."""
        return {**args, "sort": self.sort, "dir": "desc" if self.descending else "asc"}


def sorting(allowed, default: str, descending: bool = True) -> Sorting:
    """The sort asked for by ``?sort=NAME&dir=asc|desc``; a name the list does not know gives its default."""
    sort = request.args.get("sort", default)
    if sort not in allowed:
        return Sorting(default, descending)
    direction = request.args.get("dir", "")
    return Sorting(sort, descending if direction not in ("asc", "desc") else direction == "desc")


def sort_rows(rows: list, order: Sorting, keys: dict) -> list:
    """A list held in memory (users, tokens, sources, an audience) in the order ``order`` asks for.

    ``keys`` maps each sortable name to a function of a row; rows whose key is None come last
    either way, as they do in the lists ClickHouse sorts.
    """
    key = keys[order.sort]
    known = [r for r in rows if key(r) is not None]
    unknown = [r for r in rows if key(r) is None]
    return sorted(known, key=key, reverse=order.descending) + unknown
