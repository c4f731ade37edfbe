"""Gunicorn settings for `make run` and production; override with GUNICORN_* variables."""

import os

workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = "-"
# Only the proxy in front of us may tell us the client's address and scheme.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The broker's revocation poll (four a second per broker node) is not access-logged.
logger_class = "cloudsignal_dashboard.gunicorn_logging.AccessLogger"
