"""MQTT users (name@org_id), their secrets and temporary tokens. Filled by a later release."""
