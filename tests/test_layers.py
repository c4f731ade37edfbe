"""The layering (issue 13, docs/architecture.md): every package sits in a layer and imports
only packages of the layers below it. So no two apps import each other (9 pairs did when
issue 13 began), ``core`` imports no app, and no app imports the project package, which only
composes (settings, URLs, the API, Celery).

Imports are read from the source, at module level and inside functions alike (an import
hidden in a function is still a dependency); tests and migrations are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# From the bottom. Packages in one layer are peers: neither may import the other.
LAYERS = [
    ["core"],
    ["audit"],
    ["orgs"],
    ["accounts", "sessions"],
    ["users"],
    ["acls"],
    ["broker"],
    ["detection"],
    ["cloudsignal_dashboard"],
]
LAYER_OF = {package: level for level, packages in enumerate(LAYERS) for package in packages}
NOT_PACKAGES_OF_THE_APP = {"tests", "bench", "scripts", "docs"}


def _imports(root: Path = ROOT) -> dict[tuple[str, str], str]:
    """(importer, imported) -> the first file that has that import."""
    edges: dict[tuple[str, str], str] = {}
    for package in LAYER_OF:
        for path in sorted((root / package).rglob("*.py")):
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
                    if top in LAYER_OF and top != package:
                        edges.setdefault((package, top), str(path.relative_to(root)))
    return edges


def test_every_package_has_a_layer():
    packages = {
        p.parent.name
        for p in ROOT.glob("*/__init__.py")
        if p.parent.name not in NOT_PACKAGES_OF_THE_APP and not p.parent.name.startswith(".")
    }
    assert packages - set(LAYER_OF) == set(), "place the new package in LAYERS (and docs/architecture.md)"
    assert set(LAYER_OF) - packages == set(), "a package in LAYERS is gone"


def _upward(edges: dict[tuple[str, str], str]) -> list[str]:
    return sorted(
        f"{importer} imports {imported} ({where})"
        for (importer, imported), where in edges.items()
        if LAYER_OF[imported] >= LAYER_OF[importer]
    )


def test_imports_point_down_only():
    upward = _upward(_imports())
    assert not upward, (
        "imports must point to a lower layer (tests/test_layers.py, docs/architecture.md):\n"
        + "\n".join(upward)
    )


def test_the_rule_sees_an_upward_import_even_inside_a_function(tmp_path):
    for package in LAYER_OF:
        (tmp_path / package).mkdir()
    (tmp_path / "users" / "bad.py").write_text("def f():\n    from acls.services import user_acl\n")
    (tmp_path / "acls" / "good.py").write_text("from users.models import MqttUser\n")
    (tmp_path / "sessions" / "peer.py").write_text("import accounts.models\n")
    assert _upward(_imports(tmp_path)) == [
        "sessions imports accounts (sessions/peer.py)",
        "users imports acls (users/bad.py)",
    ]
