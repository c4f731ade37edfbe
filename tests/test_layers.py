"""The layering (issue 13): ``core`` imports no app, no app imports the project package
(which only composes: settings, URLs, the API, Celery), and, as a ratchet, no new pair of
apps may import each other.

The pairs below import each other today (9 when issue 13 began, 1 now: a user's page shows
its ACL tab and the snippets' ACL note); each must go (and then leave this list, which the
second test enforces), and none may be added. Imports are read from the source (module
level and inside functions alike), tests and migrations left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [
    "accounts",
    "orgs",
    "users",
    "acls",
    "audit",
    "sessions",
    "broker",
    "cloudsignal_dashboard",
    "core",
]
APPS = ["accounts", "orgs", "users", "acls", "audit", "sessions", "broker", "detection"]
KNOWN_TWO_WAY = {
    ("acls", "users"),
}


def _imports() -> set[tuple[str, str]]:
    edges = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if {"migrations", "tests"} & set(path.parts):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top in PACKAGES and top != package:
                        edges.add((package, top))
    return edges


def _two_way() -> set[tuple[str, str]]:
    edges = _imports()
    return {tuple(sorted(edge)) for edge in edges if edge[::-1] in edges}


def test_no_new_pair_of_apps_imports_each_other():
    new = _two_way() - KNOWN_TWO_WAY
    assert not new, f"these import each other now: {sorted(new)}; import downwards only (issue 13)"


def test_a_pair_that_no_longer_imports_each_other_leaves_the_list():
    gone = KNOWN_TWO_WAY - _two_way()
    assert not gone, f"no longer two-way, delete from KNOWN_TWO_WAY: {sorted(gone)}"


def test_core_imports_no_app_and_no_app_imports_the_project_package():
    edges = _imports()
    assert not {e for e in edges if e[0] == "core"}, "core is the bottom layer: it imports no app"
    upward = sorted(e for e in edges if e[0] in APPS and e[1] == "cloudsignal_dashboard")
    assert not upward, f"apps import the project package, which composes them: {upward}"
