"""The access log leaves out the broker's successful revocation polls, and only those."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

from cloudsignal_dashboard.gunicorn_logging import AccessLogger


def test_only_successful_revocation_polls_are_left_out(monkeypatch):
    logged = []
    monkeypatch.setattr(
        Logger, "access", lambda self, resp, req, environ, t: logged.append(environ["PATH_INFO"])
    )
    logger = AccessLogger(Config())
    for path, status in [
        ("/broker/v1/revocations", "200 OK"),
        ("/broker/v1/revocations", "401 Unauthorized"),
        ("/broker/v1/authn", "200 OK"),
        ("/o/org_x/", "200 OK"),
    ]:
        logger.access(SimpleNamespace(status=status), None, {"PATH_INFO": path}, 0.01)
    assert logged == ["/broker/v1/revocations", "/broker/v1/authn", "/o/org_x/"]


def test_gunicorn_is_configured_with_it():
    settings = {}
    exec((Path(__file__).parents[1] / "gunicorn.conf.py").read_text(), settings)  # noqa: S102 - our own config file
    assert settings["logger_class"] == "cloudsignal_dashboard.gunicorn_logging.AccessLogger"
