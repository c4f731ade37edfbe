"""Every htmx target exists and every page htmx asks for has its fragment: a wrong id is
silent in the browser (htmx:targetError in the console), a missing fragment a 500."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"


def _ids() -> set[str]:
    ids = set()
    for path in TEMPLATES.rglob("*.html"):
        ids |= set(re.findall(r'\bid="([A-Za-z][\w-]*)"', path.read_text()))
    return ids


def test_every_hx_target_names_an_element_that_exists():
    ids = _ids()
    missing = []
    for path in TEMPLATES.rglob("*.html"):
        for target in re.findall(r'hx-(?:target|select)="#([A-Za-z][\w-]*)"', path.read_text()):
            if target not in ids:
                missing.append(f"{path.relative_to(TEMPLATES)}: #{target}")
    assert missing == []


def test_every_template_rendered_as_a_page_has_its_fragment():
    """render_page renders "<template>#page" for htmx: each such template defines it."""
    missing = []
    modules = [
        m for m in ROOT.glob("*/*.py") if "render_page" in m.read_text() or "render_secret" in m.read_text()
    ]
    assert len(modules) >= 10  # every app's views, the bulk views, the search
    for views in modules:
        for template in re.findall(r'render_(?:page|secret)\(\s*request,\s*"([^"]+)"', views.read_text()):
            if "{% partialdef page" not in (TEMPLATES / template).read_text():
                missing.append(f"{views.parent.name}: {template}")
    assert missing == []


def test_an_htmx_get_of_a_users_delete_page_renders(org_a, client_for):
    url = reverse("users:delete", kwargs={"org_id": org_a.org.id, "name": org_a.mqtt_user.name})
    response = client_for(org_a.admin).get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "<html" not in response.content.decode()


@pytest.mark.parametrize("params", [{"status": "resolved"}, {"detector": "brute_force"}])
def test_the_alerts_filter_answers_htmx_with_the_page_fragment(org_a, client_for, params):
    response = client_for(org_a.admin).get(
        reverse("alerts:list", kwargs={"org_id": org_a.org.id}), params, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "<h1" in response.content.decode()
