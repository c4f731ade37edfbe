"""The stand-in for EMQX 5.8's REST API (tests/emqx/fake.js, on Node's HTTP server so that a
benchmark measures the relay, not the stand-in) driven from Python: start it on a port with
a state file, kill it, start it again on the same port and state (it resumes where it was
killed), and read every request it answered from its log."""

from __future__ import annotations

import json
import os
import select
import subprocess
from contextlib import contextmanager
from pathlib import Path

FAKE = Path(__file__).parent / "emqx" / "fake.js"
KEY, SECRET = "cloudsignal-relay", "fake-emqx-secret-0123456789"  # as fake.js knows them
VIEWER_KEY = "viewer"


class FakeEmqx:
    """The fake in a subprocess on ``port``, its state in ``state_file``."""

    def __init__(self, state_file: Path, port: int):
        self.state_file, self.port, self.process = state_file, port, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeEmqx:
        self.process = subprocess.Popen(
            ["node", str(FAKE), str(self.port), str(self.state_file)], stdout=subprocess.PIPE, text=True
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 10)
        assert ready and self.process.stdout.readline().startswith("listening"), "the fake EMQX did not start"
        return self

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def state(self) -> dict:
        return json.loads(self.state_file.read_text())

    def edit(self, change) -> None:
        """Change the state file while the fake is stopped (it reads it when it starts)."""
        data = self.state()
        change(data)
        tmp = self.state_file.with_suffix(".edit")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.state_file)

    def requests(self) -> list[dict]:
        log = self.state_file.with_suffix(".log")
        return [json.loads(line) for line in log.read_text().splitlines() if line] if log.exists() else []

    def kicks(self) -> list[str]:
        """The client ids kicked (by DELETE or in bulk), in order, over every run of the fake."""
        return [client_id for r in self.requests() for client_id in r.get("kicked", [])]

    def live(self) -> set[str]:
        """The client ids still connected: the seeded ones less every kick."""
        return set(self.state()["clients"]) - set(self.kicks())


@contextmanager
def running_fake(tmp_path: Path, port: int, clients: dict | None = None):
    state_file = tmp_path / "emqx-state.json"
    state_file.write_text(json.dumps({"clients": clients or {}}))
    fake = FakeEmqx(state_file, port).start()
    try:
        yield fake
    finally:
        if fake.process.poll() is None:
            fake.kill()
