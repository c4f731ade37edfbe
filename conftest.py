"""Fixtures every test shares: a world of two orgs with every role, and an outsider."""

from __future__ import annotations

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

    def member(self, role: str) -> User:
        return {"owner": self.owner, "admin": self.admin, "auditor": self.auditor}[role]

    def membership(self, user: User) -> Membership:
        return Membership.objects.get(org=self.org, user=user)


def make_user(email: str, password: str | None = None) -> User:
    """A dashboard account; without a password it cannot sign in (tests use force_login),
    which spares an Argon2 hash per fixture user."""
    return User.objects.create_user(email=email, password=password)


def make_org(name: str, prefix: str) -> OrgWorld:
    owner = make_user(f"{prefix}-owner@example.com")
    org = org_create(name=name, owner=owner)
    admin = make_user(f"{prefix}-admin@example.com")
    auditor = make_user(f"{prefix}-auditor@example.com")
    Membership.objects.create(org=org, user=admin, role=Role.ADMIN)
    Membership.objects.create(org=org, user=auditor, role=Role.AUDITOR)
    return OrgWorld(org=org, owner=owner, admin=admin, auditor=auditor)


@pytest.fixture
def org_a(db) -> OrgWorld:
    return make_org("Acme", "a")


@pytest.fixture
def org_b(db) -> OrgWorld:
    return make_org("Globex", "b")


@pytest.fixture
def client_for(client):
    """A test client signed in as the given user."""

    def sign_in(user: User):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return sign_in
