"""Sign up, land on the new org's Overview, create a second org and switch between them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orgs.models import Membership, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_invitation_accepted_by_a_new_account_in_the_browser(page, browser, live_server, org_a, smtp):
    """The owner invites; the invitee creates an account from the link, confirms it and
    joins; the link then works no more."""
    from conftest import PASSWORD
    from tests.browser.conftest import sign_in

    org_a.owner.set_password(PASSWORD)
    org_a.owner.save()
    sign_in(page, org_a.owner.email, PASSWORD)
    page.goto(f"/o/{org_a.org.id}/settings/members/")
    page.get_by_label("Email").fill("newcomer@example.com")
    page.get_by_label("Role", exact=True).select_option("auditor")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_test_id("pending-invitations")).to_contain_text("newcomer@example.com")
    link = smtp.link(smtp.to("newcomer@example.com"), "/invitations/")

    invitee = browser.new_context(base_url=live_server.url).new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", level=1)).to_have_text(f"Join {org_a.org.name}")
    expect(invitee.locator("main")).to_contain_text(org_a.owner.email)
    invitee.get_by_role("link", name="Create one").click()
    invitee.get_by_label("Email").fill("newcomer@example.com")
    invitee.get_by_label("Password").fill("a-long-enough-pass-7")
    invitee.get_by_role("button", name="Create account").click()
    invitee.goto(smtp.link(smtp.to("newcomer@example.com"), "/accounts/confirm-email/"))
    invitee.get_by_role("button", name="Confirm").click()
    invitee.goto(link)
    invitee.get_by_role("button", name="Accept and join").click()
    expect(invitee).to_have_url(f"{live_server.url}/o/{org_a.org.id}/")
    assert Membership.objects.get(org=org_a.org, user__email="newcomer@example.com").role == Role.AUDITOR
    invitee.goto(link)
    expect(invitee.locator("[data-error]")).to_contain_text("accepted")


def test_sign_up_land_on_overview_and_switch_orgs(page, artifacts, settings, smtp):
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("founder@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_label("Organization name").fill("Initech")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("too short")

    page.get_by_label("Password").fill("a-long-enough-pass-7")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.screenshot(path=str(artifacts / "signup-check-email.png"), full_page=True)
    # The link in the mail the SMTP server received; opening it asks, confirming lands.
    page.goto(smtp.link(smtp.to("founder@example.com"), "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/o/org_[a-z2-7]{12}/$"))
    first_id = page.get_by_test_id("org-id").inner_text()
    expect(page.get_by_role("heading", level=1)).to_have_text("Initech")
    expect(page.get_by_test_id("mqtt-tls-url")).to_have_text(settings.MQTT_PUBLIC_TLS_URL)
    expect(page.get_by_test_id("mqtt-wss-url")).to_have_text(settings.MQTT_PUBLIC_WSS_URL)
    expect(page.get_by_text("org.created")).to_be_visible()  # recent activity
    expect(page.get_by_test_id("chart")).to_have_count(2)  # connections and auth failures
    page.screenshot(path=str(artifacts / "overview.png"), full_page=True)

    # A second org from the switcher.
    page.get_by_test_id("org-switcher").get_by_role("button").click()
    page.get_by_role("link", name="+ New organization").click()
    page.get_by_label("Organization name").fill("Umbrella")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Umbrella")
    second_id = page.get_by_test_id("org-id").inner_text()
    assert second_id != first_id

    # Switch back.
    page.get_by_test_id("org-switcher").get_by_role("button").click()
    page.get_by_test_id("org-switcher").get_by_role("link", name=re.compile("Initech")).click()
    expect(page).to_have_url(re.compile(f"/o/{first_id}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Initech")
    assert set(Membership.objects.values_list("org_id", "role")) == {
        (first_id, Role.OWNER),
        (second_id, Role.OWNER),
    }


def test_owner_changes_a_role_in_place_with_htmx(page, org_a, artifacts):
    from conftest import PASSWORD

    org_a.owner.set_password(PASSWORD)
    org_a.owner.save()
    from tests.browser.conftest import sign_in

    sign_in(page, org_a.owner.email, PASSWORD)
    page.goto(f"/o/{org_a.org.id}/settings/members/")
    admin = org_a.membership(org_a.admin)
    row = page.locator(f"#member-{admin.pk}")
    row.get_by_label(f"Role of {org_a.admin.email}", exact=True).select_option("auditor")
    assert org_a.membership(org_a.admin).role == Role.ADMIN  # choosing is not saving
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation
    with page.expect_response(re.compile(r"/role/$")) as response:
        row.get_by_role("button", name=f"Save the role of {org_a.admin.email}").click()
    assert response.value.status == 200
    expect(
        page.locator(f"#member-{admin.pk}").get_by_label(f"Role of {org_a.admin.email}", exact=True)
    ).to_have_value("auditor")
    assert org_a.membership(org_a.admin).role == Role.AUDITOR

    # The last owner cannot step down: the row says why, the role stays.
    owner = org_a.membership(org_a.owner)
    owner_row = page.locator(f"#member-{owner.pk}")
    owner_row.get_by_label(f"Role of {org_a.owner.email}", exact=True).select_option("admin")
    owner_row.get_by_role("button", name=f"Save the role of {org_a.owner.email}").click()
    expect(page.locator(f"#member-{owner.pk}")).to_contain_text("is the last owner")
    assert org_a.membership(org_a.owner).role == Role.OWNER
    page.screenshot(path=str(artifacts / "members.png"), full_page=True)


def test_an_invitation_declined_then_dead_and_an_expired_one(page, org_a, artifacts):
    """The invited person may say no (asked first), after which the link says so; a link
    past its date says when it expired and whom to ask."""
    from datetime import timedelta

    from django.utils import timezone

    from orgs import invitations
    from orgs.models import Invitation

    declined, token = invitations.invite(
        org=org_a.org, email="maybe@example.com", role="admin", inviter=org_a.owner
    )
    link = invitations.link_path(declined, token)
    page.goto(link)
    page.once("dialog", lambda dialog: dialog.dismiss())  # not yet
    page.get_by_role("button", name="Decline").click()
    assert Invitation.objects.get(pk=declined.pk).status == "pending"
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Decline").click()
    page.goto(link)
    expect(page.locator("[data-error]")).to_contain_text("declined")
    assert not page.get_by_role("button", name=re.compile("Accept")).count()

    expired, token = invitations.invite(
        org=org_a.org, email="late@example.com", role="auditor", inviter=org_a.owner
    )
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    page.goto(invitations.link_path(expired, token))
    expect(page.locator("[data-error]")).to_contain_text("expired")
    expect(page.locator("[data-error]")).to_contain_text(org_a.owner.email)
    page.screenshot(path=artifacts / "invitation-expired.png", full_page=True)
    assert not Membership.objects.filter(user__email__in=["maybe@example.com", "late@example.com"]).exists()
