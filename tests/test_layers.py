"""The rooms and the one way their imports run (ARCHITECTURE.md draws the same picture).

A room may import rooms below it, never one above it or a peer on its own
level. Every import counts, also those inside functions, because a lazy
import is still an arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Top first; rooms on one line are peers and may not import each other.
LAYERS = [
    ["basirat"],
    ["webapp", "storefront"],
    ["mining"],
    ["recommender", "activation", "collector", "matching"],
    ["core"],
    ["warehouse"],
]
LEVEL = {room: n for n, rooms in enumerate(LAYERS) for room in rooms}


def imported_rooms(path: Path, room: str) -> set[tuple[str, int]]:
    """(room, line) for every import of another room in one file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in LEVEL and top != room:
                found.add((top, node.lineno))
    return found


def wrong_arrows() -> list[str]:
    wrong = []
    for room in LEVEL:
        for path in sorted((ROOT / room).rglob("*.py")):
            for other, line in imported_rooms(path, room):
                if LEVEL[other] <= LEVEL[room]:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {other}")
    return wrong


def test_every_room_is_in_a_layer():
    rooms = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert rooms == set(LEVEL)


def test_imports_run_one_way_down():
    assert wrong_arrows() == []


def test_the_check_sees_an_upward_import(tmp_path):
    upward = tmp_path / "upward.py"
    upward.write_text("def f():\n    from webapp import accounts\n")
    assert imported_rooms(upward, "warehouse") == {("webapp", 2)}
