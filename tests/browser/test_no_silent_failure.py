"""Issue 14, item 1: a failure shows where it happened and keeps what was typed; the ACL
editor by keyboard (focus on the new rule, Enter saves), says when it has unsaved changes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from acls.services import user_acl, user_acl_save
from audit.services import Actor
from conftest import PASSWORD
from tests.browser.conftest import settled, sign_in
from users.services import user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
RULE = {"permission": "allow", "action": "subscribe", "topic": "a/b"}


def _editor(page, org_a):
    user_create(org=org_a.org, name="agent-01", actor=Actor.system())
    org_a.admin.set_password(PASSWORD)
    org_a.admin.save()
    sign_in(page, org_a.admin.email, PASSWORD)
    page.goto(f"/o/{org_a.org.id}/acls/users/agent-01/")
    expect(page.get_by_test_id("acl-summary")).to_contain_text("score")


def test_by_keyboard_a_new_rule_takes_the_focus_and_enter_saves(page, org_a):
    _editor(page, org_a)
    unsaved = page.get_by_test_id("unsaved")
    expect(unsaved).to_be_hidden()
    page.get_by_role("button", name="+ Add rule").focus()
    page.keyboard.press("Enter")
    settled(page)
    topic = page.get_by_label("Topic of rule 1")
    expect(topic).to_be_focused()
    expect(page.get_by_test_id("rule-hint")).to_be_visible()  # a hint, not an error, before typing
    expect(page.get_by_test_id("rule-error")).to_have_count(0)
    expect(topic).not_to_have_attribute("aria-invalid", "true")
    expect(unsaved).to_be_visible()  # an added row is a change, though nothing was typed yet
    page.keyboard.type("agents/#/x")
    expect(page.get_by_test_id("rule-error")).to_contain_text("must be the last level")
    topic.fill("agents/%u/inbox")
    expect(page.get_by_test_id("rule-error")).to_have_count(0)
    settled(page)
    topic.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved as revision 1")
    expect(unsaved).to_be_hidden()
    from users.models import MqttUser

    agent = MqttUser.objects.get(org=org_a.org, name="agent-01")
    assert [r["topic"] for r in user_acl(agent).rules] == ["agents/%u/inbox"]


def test_a_save_on_a_stale_revision_says_so_and_keeps_the_rules(page, org_a):
    _editor(page, org_a)
    page.get_by_role("button", name="+ Add rule").click()
    settled(page)
    page.get_by_label("Topic of rule 1").fill("mine/#")
    settled(page)
    from users.models import MqttUser

    agent = MqttUser.objects.get(org=org_a.org, name="agent-01")
    user_acl_save(user=agent, rules=[RULE], rule_sets=[], revision=0, actor=Actor.system())  # someone else
    page.get_by_role("button", name="Save all changes").click()
    expect(page.get_by_test_id("save-error")).to_contain_text("changed by someone else")
    expect(page.get_by_label("Topic of rule 1")).to_have_value("mine/#")
    assert [r["topic"] for r in user_acl(agent).rules] == ["a/b"]


def test_an_expired_session_or_a_lost_network_shows_on_the_editor_and_loses_nothing(page, org_a):
    _editor(page, org_a)
    page.get_by_role("button", name="+ Add rule").click()
    settled(page)
    page.get_by_label("Topic of rule 1").fill("kept/#")
    settled(page)
    from django.conf import settings

    session = [c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)  # the session ends while editing
    assert session
    page.get_by_role("button", name="Save all changes").click()
    alert = page.locator(".htmx-error")
    expect(alert).to_contain_text("Your session has ended")
    expect(page.get_by_label("Topic of rule 1")).to_have_value("kept/#")
    expect(page.locator("nav.topbar")).to_have_count(1)  # no sign-in page swapped inside

    page.route("**/edit/**", lambda route: route.abort())
    page.get_by_role("button", name="Save all changes").click()
    expect(alert).to_contain_text("could not be reached")
    expect(page.get_by_label("Topic of rule 1")).to_have_value("kept/#")


def test_a_refusal_of_the_server_is_shown_with_its_reason(page, org_a):
    _editor(page, org_a)
    from orgs.models import Membership, Role

    Membership.objects.filter(org=org_a.org, user=org_a.admin).update(role=Role.AUDITOR)  # demoted meanwhile
    page.get_by_role("button", name="+ Add rule").click()
    expect(page.locator(".htmx-error")).to_contain_text("Auditor")
    expect(page.get_by_label("Topic of rule 1")).to_have_count(0)  # nothing was applied
