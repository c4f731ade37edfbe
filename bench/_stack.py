"""What the end-to-end benchmarks share: the production settings, and the dashboard
served by gunicorn on loopback (with its Celery worker and beat) against the PostgreSQL
and Redis of DATABASE_URL/REDIS_URL.

Importing it sets up Django with those settings (and migrates), so a benchmark can create
the rows it needs before starting the server.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRODUCTION = {
    "CLOUDSIGNAL_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "SECRETS_PEPPER": secrets.token_urlsafe(32),
    "BROKER_HOOK_SECRET": secrets.token_urlsafe(32),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",  # TLS ends at the proxy in front; the load speaks plain HTTP
    "LOG_LEVEL": "WARNING",
}
os.environ.update(PRODUCTION)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudsignal_dashboard.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
    sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL; `make test` starts both on 127.0.0.1.")
call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"nothing listens on {port}")


def wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"the server did not answer {url}")


def _spawn(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=os.environ.copy(), start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


@contextmanager
def start_dashboard(port: int):
    """The production process group on 127.0.0.1:port, stopped afterwards: gunicorn with
    the production settings, and the Celery worker and beat (they drain the broker's
    audit queue every second) as the Procfile runs them."""
    connection.close()  # the server's workers open their own
    server = _spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "cloudsignal_dashboard.wsgi",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
        ]
    )
    celery = [sys.executable, "-m", "celery", "-A", "cloudsignal_dashboard"]
    with tempfile.TemporaryDirectory() as tmp:
        workers = [
            _spawn([*celery, "worker", "--loglevel", "WARNING", "--concurrency", "2"]),
            _spawn([*celery, "beat", "--loglevel", "WARNING", "--schedule", f"{tmp}/beat-schedule"]),
        ]
        try:
            wait_up(f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}"
        finally:
            for process in [server, *workers]:
                _stop(process)


@contextmanager
def start_broker(dashboard_port: int | None, mqtt_port: int, **env: str):
    """`manage.py runbroker` with only its plain MQTT listener, on 127.0.0.1:mqtt_port, in
    front of the dashboard on dashboard_port (None: no dashboard, for BROKER_BENCH_NO_HOOKS=1)."""
    url = f"http://127.0.0.1:{dashboard_port or 9}"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runbroker", "--dashboard-url", url, "--mqtt", f"127.0.0.1:{mqtt_port}"]
        + ["--mqtts", "off", "--wss", "off"],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(mqtt_port)
        yield
    finally:
        _stop(process)
