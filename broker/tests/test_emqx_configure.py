"""``manage.py emqx_configure`` against the stand-in for EMQX 5.8's REST API: every request
it makes, a second run that changes nothing, a changed setting put back, --dry-run, and the
errors an operator gets for a wrong key or URL."""

from __future__ import annotations

import io
import socket

import pytest
from django.core.management import CommandError, call_command

from broker.emqx.api import Emqx
from tests.emqx_fake import KEY, SECRET, running_fake

DASHBOARD = "https://dashboard.example.com"


@pytest.fixture
def fake(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with running_fake(tmp_path, port) as running:
        yield running


def configure(fake, *extra, key=KEY) -> str:
    out = io.StringIO()
    call_command(
        "emqx_configure",
        "--url",
        fake.url,
        "--key",
        key,
        "--secret",
        SECRET,
        "--dashboard-url",
        DASHBOARD,
        *extra,
        stdout=out,
    )
    return out.getvalue()


def changes(fake) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in fake.requests() if r["method"] != "GET"]


def test_it_applies_the_whole_integration_then_changes_nothing(fake, settings):
    out = configure(fake)
    assert changes(fake) == [
        ("POST", "/api/v5/authentication"),
        ("POST", "/api/v5/authorization/sources"),
        ("PUT", "/api/v5/authorization/settings"),
        ("POST", "/api/v5/connectors"),
        ("POST", "/api/v5/actions"),
        ("POST", "/api/v5/rules"),
    ]
    bodies = {r["path"]: r["body"] for r in fake.requests() if r["method"] != "GET"}
    authn = bodies["/api/v5/authentication"]
    assert authn["url"] == f"{DASHBOARD}/broker/v1/authn" and authn["backend"] == "http"
    assert authn["headers"]["authorization"] == f"Bearer {settings.BROKER_HOOK_SECRET}"
    assert authn["body"]["password"] == "${password}" and authn["pool_size"] == 32
    assert (authn["connect_timeout"], authn["request_timeout"]) == ("5s", "5s")
    assert bodies["/api/v5/authorization/settings"]["no_match"] == "deny"
    assert bodies["/api/v5/authorization/sources"]["url"] == f"{DASHBOARD}/broker/v1/authz"
    assert bodies["/api/v5/actions"]["parameters"]["path"] == "/broker/v1/events"
    assert bodies["/api/v5/actions"]["connector"] == "cloudsignal"
    rule = bodies["/api/v5/rules"]
    for event in ("client_connected", "client_disconnected", "client_check_authz_complete"):
        assert f'"$events/{event}"' in rule["sql"]
    assert rule["actions"] == ["http:cloudsignal"]
    assert "HTTP authenticator: created" in out and "events rule: created" in out
    # Basic auth with the API key on every request.
    assert all(r["auth"].startswith("Basic ") for r in fake.requests())

    before = len(changes(fake))
    again = configure(fake)
    assert len(changes(fake)) == before, "a second run changed something"
    assert again.count(": unchanged") == 6 and "authorization source order: last already" in again


def test_a_setting_changed_in_emqx_is_put_back_and_the_source_moved_last(fake):
    configure(fake)
    # In EMQX's own dashboard someone turns no_match to allow, adds a file source and puts
    # ours first.
    emqx = Emqx(fake.url, KEY, SECRET)
    emqx.request("PUT", "/authorization/settings", body={"no_match": "allow", "deny_action": "ignore"})
    emqx.request("POST", "/authorization/sources", body={"type": "file", "enable": True})
    emqx.request("POST", "/authorization/sources/http/move", body={"position": "front"})
    out = configure(fake)
    assert "authorization settings: changed" in out and "authorization source order: moved last" in out
    sources = emqx.request("GET", "/authorization/sources").json()["sources"]
    assert [s["type"] for s in sources] == ["file", "http"]
    assert emqx.request("GET", "/authorization/settings").json()["no_match"] == "deny"


def test_dry_run_prints_the_requests_without_the_secret_and_sends_no_change(fake, settings):
    out = configure(fake, "--dry-run")
    assert changes(fake) == []
    assert "POST " + fake.url + "/api/v5/authentication" in out
    assert "POST " + fake.url + "/api/v5/rules" in out
    assert settings.BROKER_HOOK_SECRET not in out and "[BROKER_HOOK_SECRET]" in out


def test_a_wrong_key_or_an_unreachable_emqx_is_a_clear_error(fake):
    with pytest.raises(CommandError, match="check EMQX_API_KEY"):
        configure(fake, key="wrong")
    with pytest.raises(CommandError, match="does not answer"):
        call_command(
            "emqx_configure",
            "--url",
            "http://127.0.0.1:1",
            "--key",
            KEY,
            "--secret",
            SECRET,
            "--dashboard-url",
            DASHBOARD,
        )
    with pytest.raises(CommandError, match="--dashboard-url"):
        call_command("emqx_configure", "--url", fake.url, "--key", KEY, "--secret", SECRET)
    assert [r["status"] for r in fake.requests()] == [401]  # refused at the first read
