"""Every form that ends, revokes or removes something asks first: the form or one of its
buttons carries data-confirm (static/js/app.js), or it is a page where the admin types
what is deleted. A new disruptive form without one fails here."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
DISRUPTIVE = re.compile(
    r"\{% url '(?P<name>[a-z_]+:(?:[a-z_]*(?:revoke|disconnect|rotate|remove|delete|rollback|respond)[a-z_]*"
    r"|bulk|bulk_assign))'"
)
TYPED = {"users/delete.html", "users/bulk_delete.html"}  # the admin types what is deleted
FORM = re.compile(r"<form\b(?P<tag>[^>]*)>(?P<body>.*?)</form>", re.S)


def _forms():
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = str(path.relative_to(TEMPLATES))
        for match in FORM.finditer(path.read_text()):
            url = DISRUPTIVE.search(match["tag"])
            if url and 'method="post"' in match["tag"]:
                yield name, url["name"], match["tag"] + match["body"]


def test_every_disruptive_form_asks_first():
    forms = list(_forms())
    assert len(forms) >= 12  # the rule sees them: revoke, disconnect, rotate, delete, bulk …
    missing = [(name, url) for name, url, text in forms if "data-confirm" not in text and name not in TYPED]
    assert not missing, f"forms that act without asking: {missing}"
