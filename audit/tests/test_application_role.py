"""On PostgreSQL the application's role cannot change or remove audit rows, whatever it
sets; retention deletes through the owner's function, and only what retention allows."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit import chain, retention
from audit.models import AuditEvent
from audit.services import Actor, record_event
from orgs.models import Organization

pytestmark = pytest.mark.django_db(transaction=True)


def _as_app():
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        dbname=connection.settings_dict["NAME"],
        user=settings.DATABASE_APP_ROLE,
        password=settings.DATABASE_APP_ROLE,
        autocommit=True,
    )


@pytest.fixture
def org():
    org = Organization.objects.create(name="Kept", audit_retention_days=30)
    for days in (40, 40, 1):
        record_event(org, "org.updated", actor=Actor.system(), at=timezone.now() - timedelta(days=days))
    return org


@pytest.mark.parametrize(
    "statements",
    [
        ["UPDATE audit_auditevent SET action = 'forged'"],
        ["DELETE FROM audit_auditevent"],
        ["TRUNCATE audit_auditevent"],
        ["SET cloudsignal.audit_purge = 'on'", "DELETE FROM audit_auditevent"],
        ["ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only"],
        ["UPDATE audit_auditcheckpoint SET hash = 'x'"],
        [
            "INSERT INTO audit_auditcheckpoint (org_id, seq, hash, purged, cutoff, at, mac) "
            "SELECT id, 1, 'x', 1, now(), now(), 'x' FROM orgs_organization LIMIT 1"
        ],
        ["DELETE FROM audit_auditverifiedhead"],
    ],
)
def test_the_application_role_cannot_change_the_audit_log(org, statements):
    before = AuditEvent.objects.filter(org=org).count()
    with _as_app() as app, pytest.raises(psycopg.errors.InsufficientPrivilege):
        for statement in statements:
            app.execute(statement)
    assert AuditEvent.objects.filter(org=org).count() == before and chain.verify(org.pk).ok


def test_the_application_role_does_its_work(org):
    with _as_app() as app:
        app.execute("SELECT count(*) FROM audit_auditevent").fetchone()
        app.execute("UPDATE users_mqttuser SET description = description")  # the rest: as usual


def test_the_purge_function_deletes_only_what_retention_allows(org):
    head = AuditEvent.objects.filter(org=org).order_by("-seq").first()
    with _as_app() as app:
        for cutoff in (timezone.now(), timezone.now() - timedelta(days=2)):  # inside 30 days
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="inside the retention"):
                app.execute("SELECT audit_purge_prefix(%s, %s, 'x', %s, 'x')", [org.pk, head.seq, cutoff])
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not all older"):
            old_cutoff = timezone.now() - timedelta(days=31)
            app.execute("SELECT audit_purge_prefix(%s, %s, 'x', %s, 'x')", [org.pk, head.seq, old_cutoff])
    assert AuditEvent.objects.filter(org=org, action="org.updated").count() == 3
    assert retention.purge_expired(org) == 2  # the genuine purge, through the function
    assert chain.verify(org.pk).ok
