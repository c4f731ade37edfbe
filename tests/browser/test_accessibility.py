"""axe-core on every page an org admin can open, at 1400 and at 390 px: no violation of
WCAG 2.1 A and AA (colour contrast, names, labels, headers included), and no page wider than
the screen. The pages are the isolation harness's (tests/isolation.py), so a new page is
checked by construction; each is filled with one object of every kind first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.isolation import ORG_URL_CASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
PUBLIC_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/confirm-email/",
    "/accounts/password/reset/",
    "/accounts/sso/",
    "/invitations/inv_nothing/not-a-token/",
]
ACCOUNT_PAGES = [  # signed in
    "/accounts/password/change/",
    "/accounts/email/",
    "/accounts/logout/",
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
    "/accounts/sessions/",
    "/accounts/reauthenticate/",
]
SIZES = {"desktop": (1400, 1000), "phone": (390, 844)}
RUN_AXE = """async () => {
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map(v => ({
    id: v.id,
    help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + ": " + n.failureSummary.split("\\n")[1]),
  }));
}"""
WIDER_THAN_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  const over = document.documentElement.scrollWidth - width;
  if (over <= 0) return null;
  const widest = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .filter(e => !e.closest(".table-responsive, .overflow-x-auto"))
    .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > width + 1))
    .slice(0, 3)
    .map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).split(" ").join(".") : ""));
  return `the page is ${over} px wider than the screen (${widest.join(", ")})`;
}"""


def org_pages(world, client: Client) -> list[str]:
    """Every org URL of the harness that answers a GET with a whole page."""
    for attribute in (
        "mqtt_user_with_acl",
        "token",
        "api_key",
        "rule_set",
        "alert",
        "audit_event",
        "session",
    ):
        getattr(world, attribute)  # one of each, so tables and details have rows
    pages = []
    for name, kwargs in sorted(ORG_URL_CASES.items()):
        url = reverse(name, kwargs={"org_id": world.org.id, **kwargs(world)})
        response = client.get(url)
        html = response.status_code == 200 and response["Content-Type"].startswith("text/html")
        if html and not response.streaming and b"<html" in response.content[:500]:
            pages.append(url)
    return pages


def _slug(url: str, world) -> str:
    url = (
        url.replace(f"/o/{world.org.id}", "").replace(world.alert.pk, "alert").replace(world.org.id[4:], "a")
    )
    path, _, query = url.partition("?")
    slug = path.strip("/").replace("/", "-") or "overview"
    return f"{slug}-{re.sub(r'[^a-z0-9]+', '-', query.lower())[:24]}" if query else slug


def _violations(page, url: str, shot: Path) -> list[str]:
    page.goto(url)
    page.screenshot(path=shot, full_page=True)
    page.add_script_tag(path=str(AXE))
    found = [f"{v['id']}: {v['help']} — {'; '.join(v['nodes'])}" for v in page.evaluate(RUN_AXE)]
    if overflow := page.evaluate(WIDER_THAN_SCREEN):
        found.append(overflow)
    return found


def error_states(world) -> list[str]:
    """Pages as they look when something is wrong: a refused filter, a stale page link, a
    missing object, an empty search and a refused one, a filled ACL editor with warnings."""
    org = f"/o/{world.org.id}"
    from acls.services import user_acl_save
    from audit.services import Actor

    user = world.mqtt_user_with_acl
    rules = [
        {"permission": "allow", "action": "all", "topic": "#"},  # lint: far too wide
        {"permission": "allow", "action": "publish", "topic": "/abs/path"},
        {"permission": "deny", "action": "subscribe", "topic": "%u/secret/+"},
    ]
    user_acl_save(
        user=user,
        rules=rules,
        rule_sets=[world.rule_set.name],
        revision=user.acl_revision,
        actor=Actor.system(),
    )
    return [
        f"{org}/users/?status=bogus",
        f"{org}/sessions/?since=2026-01-02T00:00&until=2026-01-01T00:00",
        f"{org}/sessions/?sort=password",
        f"{org}/audit/?before=not-a-cursor",
        f"{org}/alerts/?status=nope",
        f"{org}/users/no-such-user/",
        f"{org}/search/?q=nothing-matches-this",
        f"{org}/search/?q=" + "x" * 201,
        f"{org}/acls/users/{user.name}/",
    ]


def _check(browser, live_server, client: Client, urls: list[str], world, artifacts, prefix: str) -> dict:
    report = {}
    for size, (width, height) in SIZES.items():
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}, bypass_csp=True
        )
        if client is not None:
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
        page = context.new_page()
        for url in urls:
            shot = artifacts / "pages" / f"{prefix}{size}-{_slug(url, world)}.png"
            if found := _violations(page, url, shot):
                report[f"{prefix}{size} {url}"] = found
        context.close()
    return report


def _fail_on(report: dict) -> None:
    assert not report, "\n".join(f"{where}:\n  " + "\n  ".join(found) for where, found in report.items())


def test_every_page_has_no_axe_violation_at_desktop_and_phone_width(browser, live_server, org_a, artifacts):
    """Screenshots of every page at both sizes land in test-artifacts/pages/."""
    client = Client()
    client.force_login(org_a.admin)
    pages = org_pages(org_a, client)
    assert len(pages) >= 15, pages  # the harness's pages, not a handful
    report = _check(browser, live_server, None, PUBLIC_PAGES, org_a, artifacts, "")
    report |= _check(browser, live_server, client, pages + ACCOUNT_PAGES, org_a, artifacts, "")
    _fail_on(report)


def test_error_states_and_the_auditors_view_have_no_axe_violation(browser, live_server, org_a, artifacts):
    """What an admin sees when a filter or link is refused, and every page as an auditor
    (read only: no forms, other empty states) sees it: screenshots in test-artifacts/pages/."""
    admin = Client()
    admin.force_login(org_a.admin)
    states = error_states(org_a)
    assert all(admin.get(url).status_code in (200, 400, 404) for url in states)
    report = _check(browser, live_server, admin, states, org_a, artifacts, "state-")
    auditor = Client()
    auditor.force_login(org_a.auditor)
    report |= _check(browser, live_server, auditor, org_pages(org_a, auditor), org_a, artifacts, "auditor-")
    _fail_on(report)
