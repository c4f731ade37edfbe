"""Playwright driving Debian's Chromium (never a downloaded browser) against live_server."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def browser(live_server, monkeypatch):
    """A fresh Chromium per test. Playwright's sync API runs an event loop in this thread
    while it lives, so it starts after the test database and stops before its teardown;
    the ORM calls the test makes between browser steps are still synchronous code."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package.")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
        # ORM calls made while Playwright's loop runs get connections of their own context;
        # close them here, or they outlive the test and block the test database's teardown.
        connections.close_all()


@pytest.fixture
def page(browser, live_server):
    """A page that fails its test on any Content-Security-Policy violation it met."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text)
        if message.type == "error" and "Content Security Policy" in message.text
        else None,
    )
    yield page
    context.close()
    assert violations == [], f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def admin_page(page, org_a):
    """``page`` signed in as org A's admin."""
    from conftest import PASSWORD

    org_a.admin.set_password(PASSWORD)
    org_a.admin.save()
    sign_in(page, org_a.admin.email, PASSWORD)
    return page


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def settled(page) -> None:
    """Wait until htmx has swapped and settled (it wires new elements when settling)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
    page.wait_for_timeout(50)
