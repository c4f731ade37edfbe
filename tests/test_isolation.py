"""Tenancy across every org URL, method and role (see tests/isolation.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .isolation import METHODS, ORG_URL_CASES, PER_ORG_IDENTIFIERS, org_url_names, uncovered_org_urls

ROLES = ("owner", "admin", "auditor")


def test_every_org_url_is_covered():
    uncovered = uncovered_org_urls()
    assert not uncovered, (
        f"Org URLs without an isolation case: {sorted(uncovered)}. Add them to "
        "tests/isolation.py ORG_URL_CASES with the kwargs of an object of the given org."
    )
    stale = set(ORG_URL_CASES) - org_url_names()
    assert not stale, f"ORG_URL_CASES names URLs that no longer exist: {sorted(stale)}"


def test_the_harness_catches_an_uncovered_org_url():
    assert uncovered_org_urls("tests.urls_with_uncovered") == {"leaky"}


def _url(name: str, target, kwargs_from) -> str:
    return reverse(name, kwargs={"org_id": target.org.id, **ORG_URL_CASES[name](kwargs_from)})


@pytest.mark.parametrize("name", sorted(ORG_URL_CASES))
def test_a_member_of_another_org_gets_404_for_every_method_and_role(name, org_a, org_b, client_for):
    url = _url(name, org_a, org_a)
    for role in ROLES:
        client = client_for(org_b.member(role))
        for method in METHODS:
            response = getattr(client, method)(url)
            assert response.status_code == 404, f"{role} of B: {method.upper()} {url}"


def _with_objects(name: str) -> bool:
    return ORG_URL_CASES[name].__name__ != "_none" and name not in PER_ORG_IDENTIFIERS


@pytest.mark.parametrize("name", sorted(filter(_with_objects, ORG_URL_CASES)))
def test_an_object_of_another_org_is_treated_as_missing(name, org_a, org_b, client_for):
    """Org A's URL carrying the id of org B's object answers exactly as for no object."""
    foreign = _url(name, org_a, org_b)
    missing_kwargs = {
        k: 99999 if isinstance(v, int) else "zzzzzzzzzzzz" for k, v in ORG_URL_CASES[name](org_b).items()
    }
    missing = reverse(name, kwargs={"org_id": org_a.org.id, **missing_kwargs})
    for role in ROLES:
        client = client_for(org_a.member(role))
        for method in METHODS:
            got = getattr(client, method)(foreign).status_code
            assert got == getattr(client, method)(missing).status_code, f"{role}: {method} {foreign}"
            assert got in (403, 404, 405), f"{role} of A: {method.upper()} {foreign} -> {got}"
    # An owner's POST is the request that reaches the object: it is refused as missing.
    assert client_for(org_a.owner).post(foreign).status_code == 404


@pytest.mark.parametrize("name", sorted(ORG_URL_CASES))
def test_an_auditor_gets_403_for_every_change(name, org_a, client_for):
    client = client_for(org_a.auditor)
    url = _url(name, org_a, org_a)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(url).status_code == 403, f"{method.upper()} {url}"


@pytest.mark.parametrize("name", sorted(ORG_URL_CASES))
def test_anonymous_callers_are_sent_to_login_whether_or_not_the_org_exists(name, org_a, client):
    real = _url(name, org_a, org_a)
    fake = real.replace(org_a.org.id, "org_aaaaaaaaaaaa")
    for url in (real, fake):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_unknown_and_malformed_org_ids_are_404(org_a, client_for):
    client = client_for(org_a.owner)
    for org_id in ("org_aaaaaaaaaaaa", "org_ABCDEFGHIJKL", "org_short", "nope", "org_aaaaaaaaaaaa1"):
        assert client.get(f"/o/{org_id}/").status_code == 404, org_id
