"""A page swapped in by htmx names itself like a page loaded whole: the fragment carries
the <title> htmx puts in the tab (the name of the page, then the org)."""

from __future__ import annotations

import re

from django.urls import reverse


def _title(html: str) -> str:
    return re.findall(r"<title>(.*?)</title>", html, re.S)[-1].strip()


def test_an_htmx_page_carries_the_same_title_as_the_whole_page(org_a, client_for):
    client = client_for(org_a.admin)
    user = org_a.mqtt_user
    for url in (
        reverse("users:list", kwargs={"org_id": org_a.org.id}),
        reverse("users:detail", kwargs={"org_id": org_a.org.id, "name": user.name}),
        reverse("audit:log", kwargs={"org_id": org_a.org.id}),
    ):
        whole = _title(client.get(url).content.decode())
        swapped = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert "<html" not in swapped and _title(swapped) == whole
        assert whole.endswith(f"{org_a.org.name} · CloudSignal") and not whole.startswith(org_a.org.name)


def test_a_title_made_of_a_users_text_is_escaped_once(org_a, client_for):
    from audit.services import Actor
    from users.services import user_create

    user = user_create(org=org_a.org, name="a-b", actor=Actor.system())[0]
    org_a.org.name = "<Acme & Co>"
    org_a.org.save()
    url = reverse("users:detail", kwargs={"org_id": org_a.org.id, "name": user.name})
    swapped = client_for(org_a.admin).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<title>a-b · &lt;Acme &amp; Co&gt; · CloudSignal</title>" in swapped
