"""A grep-level guard: views never query models directly.

Org-owned rows are read through ``request.tenant.scope(...)``/``tenant.get(...)``, and
anything else through a selector or service, so tenancy cannot be forgotten in a view.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNSCOPED = re.compile(r"\b[A-Z]\w*\.objects\b|\b_default_manager\b")


def test_no_view_module_queries_a_model_manager_directly():
    offenders = []
    for path in sorted(ROOT.glob("*/views.py")) + sorted(ROOT.glob("*/views/*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if UNSCOPED.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, (
        "Views must read org-owned rows through request.tenant.scope()/get() and anything "
        "else through a selector or service:\n" + "\n".join(offenders)
    )
