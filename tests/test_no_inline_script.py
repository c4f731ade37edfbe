"""No data can run as script: no template carries inline script, event handlers or inline
style, and every page is served with a Content-Security-Policy that forbids them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from .isolation import ORG_URL_CASES

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
FORBIDDEN = {
    "an on* event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "an inline <script> (one without src)": re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I
    ),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    "an inline style attribute": re.compile(r"\sstyle\s*=", re.I),
    "an hx-on attribute (needs eval)": re.compile(r"\shx-on", re.I),
}


def test_no_template_carries_inline_script_or_style():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for what, pattern in FORBIDDEN.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []


def test_the_lint_finds_what_it_looks_for():
    samples = {
        "an on* event handler attribute": '<form onsubmit="return confirm(1)">',
        "an inline <script> (one without src)": "<script>alert(1)</script>",
        "a javascript: URL": '<a href="javascript:alert(1)">',
        "an inline style attribute": '<div style="color:red">',
        "an hx-on attribute (needs eval)": '<button hx-on:click="x()">',
    }
    for what, sample in samples.items():
        assert FORBIDDEN[what].search(sample), what
    assert not FORBIDDEN["an inline <script> (one without src)"].search(
        '<script src="/static/js/app.js" defer>'
    )


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def _assert_strict(response, url):
    policy = _policy(response)
    assert policy["script-src"] == "'self'", url
    assert policy["style-src"] == "'self'", url
    assert "unsafe-inline" not in response["Content-Security-Policy"], url
    assert "unsafe-eval" not in response["Content-Security-Policy"], url
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'", url


@pytest.mark.parametrize("name", sorted(ORG_URL_CASES))
def test_every_org_page_is_served_with_a_strict_policy(name, org_a, client_for):
    url = reverse(name, kwargs={"org_id": org_a.org.id, **ORG_URL_CASES[name](org_a)})
    response = client_for(org_a.owner).get(url)
    assert "Content-Security-Policy" in response, (url, response.status_code)
    _assert_strict(response, url)


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/healthz", "/api/v1/docs", "/nope/"]
)
def test_pages_outside_an_org_carry_it_too(client, path):
    _assert_strict(client.get(path), path)


def test_htmx_runs_without_eval(client):
    page = client.get("/accounts/login/").content.decode()
    assert '"allowEval":false' in page and '"includeIndicatorStyles":false' in page


def test_no_template_comment_spans_lines():
    """A {# #} comment ends at its line: one spanning two is printed on the page."""
    found = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if re.search(r"\{#(?:(?!#\}).)*\n", path.read_text())
    ]
    assert found == []
