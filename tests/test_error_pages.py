from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path


def boom(request):
    raise RuntimeError("an unexpected failure")


urlpatterns = [path("boom/", boom)]


def test_404_is_in_the_layout_and_says_what_to_do(org_a, client_for):
    response = client_for(org_a.owner).get("/o/org_aaaaaaaaaaaa/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "belongs to an organization you are not a member of" in body
    assert "Your organizations" in body  # the layout's org switcher


def test_403_explains_the_role_and_keeps_the_org_navigation(org_a, client_for):
    response = client_for(org_a.auditor).post(f"/o/{org_a.org.id}/settings/")
    body = response.content.decode()
    assert response.status_code == 403
    assert "Your role in Acme is Auditor" in body
    assert "Audit log" in body  # the org's sidebar


@pytest.mark.urls("tests.test_error_pages")
def test_500_page_is_rendered_without_leaking_the_error(db):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert "an unexpected failure" not in body


def test_a_stale_form_token_is_a_403_that_says_to_reload_with_no_inline_style(org_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org_a.admin)
    response = client.post(f"/o/{org_a.org.id}/users/new/", {"name": "x"})
    body = response.content.decode()
    assert response.status_code == 403 and "Reload it and try again" in body and "data-error" in body
    assert "<style" not in body and " style=" not in body


def test_an_htmx_request_after_the_session_ended_is_a_401_not_the_sign_in_page(org_a):
    url = f"/o/{org_a.org.id}/users/"
    plain = Client().get(url)
    assert plain.status_code == 302 and "/accounts/login/" in plain["Location"]
    htmx = Client().get(url, HTTP_HX_REQUEST="true")
    body = htmx.content.decode()
    assert htmx.status_code == 401 and "data-error" in body and "session has ended" in body
    assert "<nav" not in body and "<form" not in body  # not the sign-in page
