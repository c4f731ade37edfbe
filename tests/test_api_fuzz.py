"""Property-based fuzzing of the REST API from its own OpenAPI schema (schemathesis).

Every operation is called with generated valid and invalid inputs through the real WSGI
application and the test database: no answer may be a 500, every status code must be
documented, and every body must match the documented schema.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# CI runs a fixed, derandomized sample; FUZZ_EXAMPLES=500 FUZZ_RANDOM=1 digs deeper locally.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
DERANDOMIZE = not os.environ.get("FUZZ_RANDOM")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(db):
    # As Django's test client does: keep the test's connection (and its transaction) open
    # across requests made straight to the WSGI application.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(org_a, api_key_for):
    from audit.services import Actor
    from users.services import user_create

    # Something for the generated names and ids to find, besides what they create.
    user_create(org=org_a.org, name="dashboard", actor=Actor.system())
    return {"Authorization": f"Bearer {api_key_for(org_a)[1]}"}


def test_the_api_never_fails_and_answers_as_documented(api_schema, auth_headers):
    # Hypothesis drives each operation directly (schemathesis's pytest plugin does not
    # support pytest 9's fixtures); a failure names the operation and the case.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def fuzz(case):
            case.call_and_validate(headers=auth_headers, checks=CHECKS)

        fuzz()
