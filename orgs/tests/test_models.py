from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from orgs.models import Organization, new_member_id, new_org_id


def test_org_ids_are_org_and_12_lowercase_base32_characters():
    ids = {new_org_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"org_[a-z2-7]{12}", i) for i in ids)
    assert all(re.fullmatch(r"mem_[a-z2-7]{12}", new_member_id()) for _ in range(20))


def _errors(org: Organization) -> dict:
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    return exc.value.message_dict


@pytest.mark.django_db
def test_default_ttl_above_the_maximum_is_explained():
    errors = _errors(Organization(name="x", token_ttl_default=7200, token_ttl_max=3600))
    assert errors["token_ttl_default"] == [
        "The default token TTL (7200 s) must not exceed the maximum token TTL (3600 s)."
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("token_ttl_max", 86401, "less than or equal to 86400"),
        ("token_ttl_default", 59, "greater than or equal to 60"),
        ("max_mqtt_users", 0, "greater than or equal to 1"),
        ("max_connections", 1_000_001, "less than or equal to 1000000"),
        ("audit_retention_days", 3, "greater than or equal to 7"),
    ],
)
def test_quotas_out_of_range_are_refused(field, value, message):
    errors = _errors(Organization(name="x", **{field: value}))
    assert message in " ".join(errors[field])


@pytest.mark.django_db
def test_a_blank_name_is_refused():
    assert _errors(Organization(name="   "))["name"] == ["Give the organization a name."]


@pytest.mark.django_db
def test_the_database_refuses_a_default_ttl_above_the_maximum_too():
    org = Organization.objects.create(name="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.filter(pk=org.pk).update(token_ttl_default=90000)
