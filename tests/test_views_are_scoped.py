"""A grep-level guard: views and API routers never query models directly.

Org-owned rows are read through ``request.tenant.scope(...)``/``tenant.get(...)`` (pages)
or ``core.api.scoped(...)``/``scoped_get(...)`` (the API: the same Tenant), and anything
else through a selector or service, so tenancy cannot be forgotten in either.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNSCOPED = re.compile(r"\b[A-Z]\w*\.objects\b|\b_default_manager\b")


def test_no_view_or_api_module_queries_a_model_manager_directly():
    offenders = []
    modules = [*ROOT.glob("*/views.py"), *ROOT.glob("*/views/*.py"), *ROOT.glob("*/api.py")]
    assert len([m for m in modules if m.name == "api.py"]) >= 3, "the API modules moved?"
    for path in sorted(modules):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if UNSCOPED.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, (
        "Views and routers must read org-owned rows through request.tenant.scope()/get() "
        "(core.api.scoped()/scoped_get() in the API) and anything "
        "else through a selector or service:\n" + "\n".join(offenders)
    )
