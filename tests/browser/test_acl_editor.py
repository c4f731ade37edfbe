"""The ACL editor: inline errors as you type, save, reorder, simulate, diff and roll back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from acls.services import user_acl
from audit.services import Actor
from conftest import PASSWORD
from tests.browser.conftest import settled, sign_in
from users.services import user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edit_save_reorder_simulate_diff_and_roll_back(page, org_a, artifacts):
    agent = user_create(org=org_a.org, name="agent-01", actor=Actor.system())[0]
    org_a.admin.set_password(PASSWORD)
    org_a.admin.save()
    sign_in(page, org_a.admin.email, PASSWORD)
    page.goto(f"/o/{org_a.org.id}/acls/users/agent-01/")
    expect(page.get_by_test_id("acl-summary")).to_contain_text("score")

    # Add a rule with an invalid filter: the error appears beside it as we type.
    page.get_by_role("button", name="+ Add rule").click()
    settled(page)
    topic = page.get_by_label("Topic of rule 1")
    topic.fill("agents/#/x")
    expect(page.locator("#rule-msg-0")).to_contain_text("'#' must be the last level: it is level 2 of 3.")
    expect(page.get_by_test_id("acl-summary")).to_have_text("invalid rules")
    topic.fill("agents/%u/inbox")
    expect(page.locator("#rule-msg-0")).not_to_contain_text("must be")
    expect(page.get_by_test_id("acl-summary")).to_contain_text("least-privilege score")

    # A second rule: broad publish is flagged by the lint.
    page.get_by_role("button", name="+ Add rule").click()
    settled(page)
    page.get_by_label("Action of rule 2").select_option("publish")
    page.get_by_label("Topic of rule 2").fill("commands/#")
    expect(page.locator("#rule-msg-1")).to_contain_text("L002")
    page.get_by_label("Comment").fill("first version")
    page.get_by_role("button", name="Save all changes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved as revision 1")
    settled(page)
    assert [r["topic"] for r in user_acl(agent).rules] == ["agents/%u/inbox", "commands/#"]

    # Reorder and save again.
    page.get_by_role("button", name="Move rule 2 up").click()
    expect(page.get_by_label("Topic of rule 1")).to_have_value("commands/#")
    settled(page)
    page.get_by_role("button", name="Save all changes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved as revision 2")
    settled(page)
    assert [r["topic"] for r in user_acl(agent).rules] == ["commands/#", "agents/%u/inbox"]

    # Simulate: the deciding rule is highlighted and named.
    page.get_by_label("Action", exact=True).select_option("subscribe")
    page.get_by_label("Topic", exact=True).fill("agents/agent-01/inbox")
    page.get_by_role("button", name="Simulate").click()
    expect(page.get_by_test_id("sim-source")).to_contain_text("own rule 2")
    expect(page.locator("#rule-1")).to_have_class(re.compile("table-success"))
    page.screenshot(path=str(artifacts / "acl-editor.png"), full_page=True)

    # History: the diff of the two revisions, then roll back to the first.
    page.goto(f"/o/{org_a.org.id}/acls/users/agent-01/history/")
    page.get_by_label("Compare revision").select_option("1")
    page.get_by_label("with").select_option("2")
    page.get_by_role("button", name="Show the difference").click()
    expect(page.get_by_test_id("diff")).to_contain_text("+ allow publish   commands/#")
    page.screenshot(path=str(artifacts / "acl-history.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("revision-1").get_by_role("button", name="Roll back to this").click()
    expect(page.get_by_role("alert").first).to_contain_text("Revision 1 restored as revision 3")
    assert [r["topic"] for r in user_acl(agent).rules] == ["agents/%u/inbox", "commands/#"]
