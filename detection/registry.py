"""The detectors, as their modules in ``detection/detectors/`` register them, and what they
share: a ``Finding``, evidence in the alerts' format, and the org's tuning of their settings.

A detector is one module: a function ``detect(org, tuning, now) -> list[Finding]`` decorated
with ``@register(key, label, settings=...)``. Its settings (thresholds, switches) are declared
there with their defaults and bounds, so the detection settings page, its validation and the
audit of a change come from the declaration; an org's values are stored as JSON
(``ScanSettings.tuning``) and only where they differ from the default.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Max

EVIDENCE = 10  # items kept per finding
# How far back detectors that look at "new" sessions read: at least one scan interval,
# with room for a scan that ran late.
RECENT = timedelta(minutes=3)


@dataclass
class Finding:
    detector: str
    subject: str
    severity: str
    summary: str
    latest_at: datetime
    evidence: list[dict] = field(default_factory=list)
    # The MQTT user an automatic response would act on, if any.
    user_id: str | None = None
    respond: bool = False


@dataclass(frozen=True)
class Setting:
    """One tunable value of a detector: a whole number within [low, high], or a switch."""

    name: str
    label: str
    default: int | bool
    low: int = 0
    high: int = 0
    help: str = ""

    @property
    def is_switch(self) -> bool:
        return isinstance(self.default, bool)

    def accepts(self, value) -> bool:
        if self.is_switch:
            return isinstance(value, bool)
        return type(value) is int and self.low <= value <= self.high


@dataclass(frozen=True)
class Spec:
    key: str
    label: str
    detect: Callable
    settings: tuple[Setting, ...]
    position: int

    @property
    def description(self) -> str:
        """The first paragraph of the detector's docstring: what it finds."""
        return " ".join((self.detect.__doc__ or "").strip().split("\n\n")[0].split())


_REGISTRY: dict[str, Spec] = {}


def register(key: str, label: str, *, position: int, settings: tuple[Setting, ...] = ()):
    """Decorate a detector's ``detect`` function; ``position`` orders the pages' lists."""

    def decorate(detect: Callable) -> Callable:
        taken = {s.name for spec in _REGISTRY.values() for s in spec.settings}
        clash = taken & {s.name for s in settings}
        if key in _REGISTRY or clash:
            raise ValueError(f"detector {key!r}: key or settings {sorted(clash)} already registered")
        _REGISTRY[key] = Spec(key, label, detect, tuple(settings), position)
        return detect

    return decorate


def detectors() -> list[Spec]:
    """Every detector, in the pages' order."""
    _load()
    return sorted(_REGISTRY.values(), key=lambda spec: (spec.position, spec.key))


def get(key: str) -> Spec | None:
    _load()
    return _REGISTRY.get(key)


def label_of(key: str) -> str:
    """What the pages call a detector (its key, for an alert of a detector since removed)."""
    spec = get(key)
    return spec.label if spec else key


def settings() -> dict[str, Setting]:
    """Every detector's settings by name, in the pages' order."""
    return {s.name: s for spec in detectors() for s in spec.settings}


_loaded = False


def _load() -> None:
    """Import every detector module once (some may be imported already, e.g. by the
    checklist, so an empty registry is no sign of an unloaded one)."""
    global _loaded
    if _loaded:
        return
    from . import detectors as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    _loaded = True


class Tuning:
    """An org's values of every setting: the stored one where it is valid, else the default.
    ``tuning.brute_force_minutes``; an unknown name is an AttributeError."""

    def __init__(self, stored: dict):
        self._stored = stored or {}

    def __getattr__(self, name: str):
        setting = settings().get(name)
        if setting is None:
            raise AttributeError(f"no detector has a setting {name!r}")
        value = self._stored.get(name, setting.default)
        return value if setting.accepts(value) else setting.default

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in settings()}


def stored(values: dict) -> dict:
    """What to keep of a full set of values: those that differ from their defaults (an org
    that never tuned a setting follows a better default later)."""
    return {
        name: values[name]
        for name, setting in settings().items()
        if name in values and values[name] != setting.default
    }


# --- What detectors share ------------------------------------------------------------------


def event_evidence(events) -> list[dict]:
    return [
        {
            "kind": "event",
            "id": e.pk,
            "seq": e.seq,  # its URL: the place in the org's chain
            "label": f"{e.action} {e.actor_label}".strip(),
            "at": e.at.isoformat(),
        }
        for e in events.order_by("-at", "-id")[:EVIDENCE]
    ]


def session_evidence(sessions) -> list[dict]:
    return [
        {
            "kind": "session",
            "id": s.pk,
            "label": f"{s.client_id} from {s.peer_ip or 'unknown'} over {s.transport or '?'}",
            "client_id": s.client_id,
            "at": s.connected_at.isoformat(),
        }
        for s in sessions.order_by("-connected_at", "-id")[:EVIDENCE]
    ]


def grouped(rows, key: str, threshold: int):
    """Rows per ``key`` with their count and newest time, where the count reaches ``threshold``."""
    return rows.values(key).annotate(n=Count("id"), latest=Max("at")).filter(n__gte=threshold).order_by(key)


def per_actor(events, detector: str, severity: str, threshold: int, subject, summary) -> list[Finding]:
    """A finding per actor with at least ``threshold`` of ``events`` (already windowed)."""
    return [
        Finding(
            detector,
            subject(row["actor_label"]),
            severity,
            summary(row["actor_label"], row["n"]),
            row["latest"],
            event_evidence(events.filter(actor_label=row["actor_label"])),
        )
        for row in grouped(events, "actor_label", threshold)
    ]
