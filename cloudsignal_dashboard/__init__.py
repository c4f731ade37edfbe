"""CloudSignal Dashboard: the security control plane of a multi-tenant MQTT platform."""

from .celery import app as celery_app

__all__ = ("celery_app",)
