"""The org's search box: users, client ids, token prefixes and peer addresses of this org
only; bad input answered with a word."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.services import Actor
from broker.events import ingest
from users.tokens import token_mint


def _connect(world, client_id, username, ip):
    ms = 1_700_000_000_000 + len(client_id)
    base = {"node": "n1", "clientid": client_id, "username": username, "connected_at": ms, "timestamp": ms}
    ingest([{**base, "event": "client.connected", "peername": f"{ip}:1"}])


def _search(client, world, q):
    return client.get(reverse("search", kwargs={"org_id": world.org.id}), {"q": q})


def test_search_finds_each_kind_in_this_org_only(org_a, org_b, client_for):
    mine, theirs = org_a.mqtt_user, org_b.mqtt_user
    _connect(org_a, "sensor-kitchen", mine.username, "198.51.100.20")
    _connect(org_b, "sensor-garage", theirs.username, "198.51.100.20")  # same address, other org
    token = token_mint(org=org_a.org, user=mine, actor=Actor.system())[0]
    their_token = token_mint(org=org_b.org, user=theirs, actor=Actor.system())[0]
    client = client_for(org_a.auditor)
    page = _search(client, org_a, "sensor").content.decode()
    assert "sensor-kitchen" in page and "sensor-garage" not in page
    page = _search(client, org_a, "198.51.100.20").content.decode()
    assert mine.username in page and theirs.username not in page
    page = _search(client, org_a, f"{token.display_prefix[:10]}…").content.decode()
    assert token.display_prefix in page
    assert 'data-testid="search-empty"' in _search(client, org_a, their_token.id).content.decode()
    page = _search(client, org_a, mine.name[:8]).content.decode()
    assert reverse("users:detail", kwargs={"org_id": org_a.org.id, "name": mine.name}) in page
    assert 'data-testid="search-empty"' in _search(client, org_a, theirs.name).content.decode()


def test_nothing_found_says_so_and_what_can_be_found(org_a, client_for):
    page = _search(client_for(org_a.admin), org_a, "zzz-nothing").content.decode()
    assert 'data-testid="search-empty"' in page and "Nothing in" in page


@pytest.mark.parametrize(("q", "words"), [("a" * 201, "at most 200"), ("a\x07b", "control character")])
def test_a_search_that_cannot_be_run_is_refused_with_a_word(org_a, client_for, q, words):
    response = _search(client_for(org_a.admin), org_a, q)
    assert response.status_code == 400 and words in response.content.decode()


def test_every_org_page_has_the_search_box(org_a, client_for):
    page = client_for(org_a.auditor).get(reverse("alerts:list", kwargs={"org_id": org_a.org.id}))
    assert 'role="search"' in page.content.decode()
