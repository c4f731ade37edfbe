"""The broker-facing hook API, events ingest, revocation feed and embedded broker.

Filled by a later release."""
