from __future__ import annotations


def test_liveness_touches_nothing(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readiness_checks_the_database(client, db):
    assert client.get("/readyz").json() == {"status": "ok"}
