"""The broker's CA certificate, if clients need one (``MQTT_CA_FILE``): the Overview offers
it for download and the connection snippets name it; with a public CA they need neither."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def ca_file() -> Path | None:
    path = Path(settings.MQTT_CA_FILE) if settings.MQTT_CA_FILE else None
    return path if path is not None and path.is_file() else None
