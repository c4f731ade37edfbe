"""Fixtures every test shares: a world of two orgs with every role, and an outsider."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
from django.conf import settings

from accounts.models import User
from orgs.models import Membership, Organization, Role
from orgs.services import org_create

PASSWORD = "correct-horse-battery-9"


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine and not os.environ.get("CLOUDSIGNAL_ALLOW_SQLITE_TESTS"):
        raise pytest.UsageError(
            f"The test suite runs on PostgreSQL (found {engine}). Run it with `make test`, "
            "which starts PostgreSQL and Redis and sets DATABASE_URL and REDIS_URL."
        )


@dataclass
class OrgWorld:
    org: Organization
    owner: User
    admin: User
    auditor: User

    @property
    def mqtt_user(self):
        """An MQTT user of this org, named after it so no other org has the name."""
        from audit.services import Actor
        from users.models import MqttUser
        from users.services import user_create

        name = f"device-{self.org.id[4:]}"
        existing = MqttUser.objects.filter(org=self.org, name=name).first()
        return existing or user_create(org=self.org, name=name, actor=Actor.system())[0]

    @property
    def token(self):
        """An active token of ``mqtt_user`` (created on first use)."""
        from audit.services import Actor
        from users.models import TempToken
        from users.tokens import token_mint

        existing = TempToken.objects.filter(org=self.org).first()
        return existing or token_mint(org=self.org, user=self.mqtt_user, actor=Actor.system())[0]

    @property
    def invitation(self):
        """A pending invitation of this org (created on first use)."""
        from orgs.invitations import invite
        from orgs.models import Invitation

        existing = Invitation.objects.filter(org=self.org).first()
        return (
            existing
            or invite(
                org=self.org, email=f"new-{self.org.id[4:]}@example.com", role="admin", inviter=self.owner
            )[0]
        )

    @property
    def api_key(self):
        """An API key of this org (created on first use)."""
        from audit.services import Actor
        from orgs.api_keys import api_key_create
        from orgs.models import ApiKey

        existing = ApiKey.objects.filter(org=self.org).first()
        return existing or api_key_create(org=self.org, name="k", scopes=["manage"], actor=Actor.system())[0]

    @property
    def rule_set(self):
        """A rule set of this org with one saved revision, named after the org."""
        from acls.models import RuleSet
        from acls.services import rule_set_create, rule_set_save
        from audit.services import Actor

        name = f"set-{self.org.id[4:]}"
        existing = RuleSet.objects.filter(org=self.org, name=name).first()
        if existing:
            return existing
        created = rule_set_create(org=self.org, name=name, actor=Actor.system())
        rules = [{"permission": "allow", "action": "subscribe", "topic": "a/b"}]
        return rule_set_save(rule_set=created, rules=rules, revision=0, actor=Actor.system())

    @property
    def mqtt_user_with_acl(self):
        """``mqtt_user`` with at least one saved ACL revision."""
        from acls.services import user_acl_save
        from audit.services import Actor

        user = self.mqtt_user
        if user.acl_revision == 0:
            rules = [{"permission": "allow", "action": "subscribe", "topic": "a/b"}]
            user_acl_save(user=user, rules=rules, rule_sets=[], revision=0, actor=Actor.system())
            user.refresh_from_db()
        return user

    @property
    def alert(self):
        """An open alert of this org (a brute force from an address of its own)."""
        from datetime import timedelta

        from django.utils import timezone

        from detection.models import Alert

        existing = Alert.objects.filter(org=self.org).first()
        now = timezone.now()
        return existing or Alert.objects.create(
            org=self.org,
            detector="brute_force",
            subject=f"address 192.0.2.{len(self.org.id)}",
            severity="high",
            summary="12 failed authentications",
            first_seen=now - timedelta(minutes=1),
            last_seen=now,
        )

    @property
    def session(self):
        """A live MQTT connection of ``mqtt_user``, with one subscription, as the broker reports it."""
        from broker.events import ingest
        from sessions.models import MqttSession

        existing = MqttSession.objects.filter(org=self.org).first()
        if existing:
            return existing
        user = self.mqtt_user
        base = {"node": "n1", "clientid": f"c-{self.org.id[4:]}", "username": user.username}
        base |= {"connected_at": 1_700_000_000_000, "timestamp": 1_700_000_000_001}
        connected = {**base, "event": "client.connected", "peername": "192.0.2.7:50000", "proto_ver": "5"}
        connected |= {"keepalive": 30, "clean_start": True, "expiry_interval": 0}
        ingest([connected, {**base, "event": "session.subscribed", "topic": f"{self.org.id}/in/#", "qos": 1}])
        return MqttSession.objects.get(org=self.org)

    @property
    def audit_event(self):
        """An audit event of this org."""
        from audit.models import AuditEvent

        return AuditEvent.objects.filter(org=self.org).order_by("seq").first()

    def member(self, role: str) -> User:
        return {"owner": self.owner, "admin": self.admin, "auditor": self.auditor}[role]

    def membership(self, user: User) -> Membership:
        return Membership.objects.get(org=self.org, user=user)


def recently_authenticated(client, user) -> None:
    """Record a password sign-in just now in ``client``'s session, as django-allauth does
    when one signs in (sudo mode reads it: orgs.tenancy.sensitive)."""
    from allauth.account.internal.flows.login import record_authentication
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session, request.user = client.session, user
    record_authentication(request, user, "password", email=user.email, reauthenticated=True)
    request.session.save()


def make_user(email: str, password: str | None = None, *, verified: bool = True) -> User:
    """A dashboard account with its email verified; without a password it cannot sign in
    (tests use force_login), which spares an Argon2 hash per fixture user."""
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(email=email, password=password)
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user


def make_org(name: str, prefix: str) -> OrgWorld:
    owner = make_user(f"{prefix}-owner@example.com")
    org = org_create(name=name, owner=owner)
    admin = make_user(f"{prefix}-admin@example.com")
    auditor = make_user(f"{prefix}-auditor@example.com")
    Membership.objects.create(org=org, user=admin, role=Role.ADMIN)
    Membership.objects.create(org=org, user=auditor, role=Role.AUDITOR)
    return OrgWorld(org=org, owner=owner, admin=admin, auditor=auditor)


@pytest.fixture(autouse=True)
def fresh_cache():
    """django-allauth counts sign-ups, mails and re-authentications in the cache: each test
    starts with none counted."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def audit_queue(settings):
    """Queued audit events of earlier tests name orgs this test does not have: start empty.
    Tests write what is queued with ``audit.writer.drain_all()``; e2e tests run the drainer."""
    from audit import writer

    settings.AUDIT_DRAIN_THREAD = False
    if writer.queued():
        # ...nor events an earlier test left in this process, and no lock left by a drainer
        # an earlier test killed (the outage test does).
        with writer._flush_lock, writer._pending_lock:
            writer._pending.clear()
            writer._redis().delete(writer.QUEUE, writer.LOCK)
    yield writer


@pytest.fixture
def org_a(db) -> OrgWorld:
    return make_org("Acme", "a")


@pytest.fixture
def org_b(db) -> OrgWorld:
    return make_org("Globex", "b")


@pytest.fixture
def idp_on_loopback(settings):
    """The test OpenID provider (tests/oidc_idp.py) lives on loopback, over http: let the
    egress rule reach it."""
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.EGRESS_HTTPS_ONLY = False


@pytest.fixture
def client_for(client):
    """A test client signed in as the given user."""

    def sign_in(user: User, *, recently: bool = True):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        if recently:  # as after typing the password: sensitive actions do not ask again
            recently_authenticated(client, user)
        return client

    return sign_in


@pytest.fixture
def api_key_for(db):
    """An API key of ``world``'s org with ``scopes``; returns (ApiKey, "sk_..." value)."""
    from audit.services import Actor
    from orgs.api_keys import api_key_create

    def create(world: OrgWorld, scopes=("manage",), name: str = "backend"):
        return api_key_create(org=world.org, name=name, scopes=list(scopes), actor=Actor.member(world.owner))

    return create


@pytest.fixture
def api(client, api_key_for, org_a):
    """A JSON client of the REST API authenticated with a ``manage`` key of org A."""
    return ApiClient(client, api_key_for(org_a)[1])


class ApiClient:
    def __init__(self, client, key: str | None):
        self.client, self.key = client, key

    def with_key(self, key: str | None) -> ApiClient:
        return ApiClient(self.client, key)

    def call(self, method: str, path: str, body=None, raw: bytes | None = None, **extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"} if self.key else {}
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        kwargs = {"content_type": "application/json"} if data is not None else {}
        return getattr(self.client, method)(f"/api/v1{path}", data, **kwargs, **{**headers, **extra})

    def get(self, path, **extra):
        return self.call("get", path, **extra)

    def post(self, path, body=None, **extra):
        return self.call("post", path, body, **extra)

    def patch(self, path, body=None, **extra):
        return self.call("patch", path, body, **extra)

    def delete(self, path, **extra):
        return self.call("delete", path, **extra)


class Mailbox:
    """The mails a real SMTP server on loopback received (aiosmtpd), as the dashboard sent them."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str, timeout: float = 10.0):
        """The newest mail to ``address``, waiting for it to arrive."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages if address in m["To"]]
            if found:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f"no mail to {address} within {timeout} s")

    @staticmethod
    def link(message, path_start: str) -> str:
        import re

        body = message.get_body(preferencelist=("plain",)).get_content()
        return re.search(rf"https?://[^/\s]+({re.escape(path_start)}\S*)", body)[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; the dashboard sends through it for this test."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    yield mailbox
    controller.stop()
