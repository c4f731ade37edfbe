"""gunicorn's access log, without the broker's revocation poll.

Every broker node polls ``GET /broker/v1/revocations`` four times a second; logged, those
lines would bury everything else on the ``make run`` console. A poll that fails is still
logged: that is when an operator needs to see it.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

POLL_PATH = "/broker/v1/revocations"


class AccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if environ.get("PATH_INFO") == POLL_PATH and str(getattr(resp, "status", "")).startswith("200"):
            return
        super().access(resp, req, environ, request_time)
