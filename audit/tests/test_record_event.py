from __future__ import annotations

import pytest
from django.test import RequestFactory

from audit.models import AuditEvent
from audit.services import Actor, Subject, changed_fields, record_event


@pytest.mark.django_db
def test_it_records_actor_subject_peer_and_before_after(org_a):
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")
    event = record_event(
        org_a.org,
        "mqtt_user.updated",
        actor=Actor.member(org_a.admin),
        subject=Subject("mqtt_user", "t1", "Thing one"),
        request=request,
        before={"a": 1},
        after={"a": 2},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_type, stored.actor_label, stored.peer_ip) == (
        "member",
        org_a.admin.email,
        "198.51.100.7",
    )
    assert (stored.subject_type, stored.subject_id, stored.subject_label) == ("mqtt_user", "t1", "Thing one")
    assert stored.details == {"before": {"a": 1}, "after": {"a": 2}}
    assert stored.outcome == "success"


@pytest.mark.django_db
def test_keys_that_name_secrets_are_redacted_at_any_depth(org_a):
    event = record_event(
        org_a.org,
        "mqtt_user.created",
        actor=Actor.system(),
        details={"secret": "s3cr3t", "nested": [{"password": "p", "token": "cst_x", "name": "ok"}]},
        after={"api_key": "sk_1", "description": "fine"},
    )
    stored = AuditEvent.objects.get(pk=event.pk).details
    assert "s3cr3t" not in str(stored) and "cst_x" not in str(stored) and "sk_1" not in str(stored)
    assert stored["nested"][0]["name"] == "ok"
    assert stored["after"]["description"] == "fine"


def test_changed_fields_keeps_only_differences():
    assert changed_fields({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ({"b": 2}, {"b": 3})
