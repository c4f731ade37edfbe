"""A real OpenID provider for the single sign-on tests: tests/oidc/idp.js (the certified
``oidc-provider`` from npm) on loopback, one process per test. ``Idp.sign_in`` plays the
person at the provider's own sign-in and consent pages over HTTP (the browser tests use
Chromium instead) and returns where the provider sends them back."""

from __future__ import annotations

import json
import re
import select
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

IDP_DIR = Path(__file__).parent / "oidc"
CLIENT_ID = "cloudsignal-dashboard"
CLIENT_SECRET = "idp-client-secret-for-tests-only-0123456789"


@dataclass
class Idp:
    issuer: str
    client_id: str
    client_secret: str
    process: subprocess.Popen

    def _follow(self, session: requests.Session, url: str, until: str) -> requests.Response:
        """Follow the provider's redirects until one leaves it (for ``until``)."""
        for _ in range(10):
            response = session.get(url, allow_redirects=False, timeout=10)
            location = response.headers.get("Location")
            if response.status_code not in (302, 303) or not location:
                return response
            url = urljoin(url, location)
            if url.startswith(until):
                response.url = url
                return response
        raise AssertionError("the provider kept redirecting")

    def sign_in(self, authorize_url: str, login: str, *, back_to: str = "http://testserver") -> str:
        """Sign in at the provider as ``login`` and consent; the URL it sends the person back to."""
        session = requests.Session()
        page = self._follow(session, authorize_url, back_to)
        for prompt in ("login", "consent"):
            if page.url.startswith(back_to):
                return page.url
            action = re.search(r'action="([^"]+)"', page.text)
            assert action, f"no {prompt} form at the provider: {page.text[:300]}"
            form = (
                {"prompt": prompt, "login": login, "password": "any"}
                if prompt == "login"
                else {"prompt": prompt}
            )
            submitted = session.post(
                urljoin(page.url, action.group(1)), data=form, allow_redirects=False, timeout=10
            )
            page = self._follow(session, urljoin(page.url, submitted.headers["Location"]), back_to)
        assert page.url.startswith(back_to), f"the provider did not send the person back: {page.status_code}"
        return page.url

    def cancel(self, authorize_url: str, *, back_to: str = "http://testserver") -> str:
        """Press the provider's Cancel: it sends the person back with error=access_denied."""
        session = requests.Session()
        page = self._follow(session, authorize_url, back_to)
        abort = re.search(r'href="([^"]*abort[^"]*)"', page.text)
        assert abort, "no Cancel link at the provider"
        return self._follow(session, urljoin(page.url, abort.group(1)), back_to).url


@contextmanager
def running_idp(*, redirect_uris: list[str], accounts: dict, tamper: bool = False, issuer: str = ""):
    """The provider on a free loopback port, knowing ``accounts`` ({subject: claims})."""
    clients = [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "require_auth_time": True,
        }
    ]
    env = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "IDP_CLIENTS": json.dumps(clients),
        "IDP_ACCOUNTS": json.dumps(accounts),
        "IDP_TAMPER": "1" if tamper else "0",
    }
    if issuer:
        env["IDP_ISSUER"] = issuer
    process = subprocess.Popen(
        ["node", "idp.js"], cwd=IDP_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 15)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("listening "):
            process.kill()
            raise RuntimeError(f"the test IdP did not start: {line}{process.stderr.read()[-2000:]}")
        yield Idp(line.split()[1], CLIENT_ID, CLIENT_SECRET, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
