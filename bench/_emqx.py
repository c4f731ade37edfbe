"""What the EMQX relay benchmarks share: the stand-in for EMQX's REST API (tests/emqx_fake.py)
in its own process, and `manage.py emqx_relay` pointed at it with the production settings."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from _stack import ROOT, _spawn, _stop, free_port  # noqa: I001

sys.path.insert(0, str(ROOT))
from tests.emqx_fake import KEY, SECRET, FakeEmqx  # noqa: E402


@contextmanager
def fake_emqx(tmp: Path, clients: dict):
    state = tmp / "emqx-state.json"
    state.write_text(json.dumps({"clients": clients}))
    fake = FakeEmqx(state, free_port()).start()
    try:
        yield fake
    finally:
        fake.kill()


@contextmanager
def relay(fake: FakeEmqx):
    """The relay as the Procfile runs it, against the fake."""
    os.environ.update(EMQX_API_URL=fake.url, EMQX_API_KEY=KEY, EMQX_API_SECRET=SECRET)
    process = _spawn([sys.executable, "manage.py", "emqx_relay", "--report-every", "3600"])
    try:
        yield process
    finally:
        _stop(process)


def kick_times(fake: FakeEmqx) -> dict[str, float]:
    """When each client was kicked (the fake's clock, the same machine's)."""
    return {client_id: r["at"] for r in fake.requests() for client_id in r.get("kicked", [])}


def fleet(org, count: int) -> tuple[list[str], dict]:
    """``count`` MQTT usernames of ``org``, each with one live client on the stand-in."""
    names = [f"dev-{i}@{org.id}" for i in range(count)]
    return names, {f"c-{i}": {"username": n, "node": "emqx@bench"} for i, n in enumerate(names)}
