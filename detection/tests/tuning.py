"""Test helpers: an org's detector settings, set as the settings page would store them."""

from __future__ import annotations

from detection import registry
from detection.models import ScanSettings


def tune(org, **values) -> ScanSettings:
    """Set these detector settings (by name; each must be a valid value) for the org."""
    known = registry.settings()
    for name, value in values.items():
        assert name in known and known[name].accepts(value), (name, value)
    cfg, _ = ScanSettings.objects.get_or_create(org=org)
    cfg.tuning = registry.stored({**cfg.values.as_dict(), **values})
    cfg.save(update_fields=["tuning"])
    return cfg


def default_form() -> dict:
    """The detection settings form as a new org's page shows it (switches on posted as "on")."""
    form = {}
    for name, setting in registry.settings().items():
        if not setting.is_switch:
            form[name] = setting.default
        elif setting.default:
            form[name] = "on"
    return form
