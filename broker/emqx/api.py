"""EMQX 5's REST API, the part the dashboard drives: finding a username's clients and kicking
them (the relay), and the integration's configuration (``emqx_configure``).

Basic auth with an API key and secret (EMQX's ``/api/v5/api_key``); one keep-alive session.
What EMQX answers becomes one of three outcomes a caller can act on: the answer, a client
already gone (404 on a kick: nothing left to do), or an error that says whether retrying can
help (a node restarting, 503, or no connection) or cannot (401/403: the key is wrong or may
not do this; an operator must fix it, so the relay keeps retrying and says so loudly).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import urllib3

PAGE_LIMIT = 100  # EMQX's largest page is 10,000; 100 keeps each answer small
BULK_LIMIT = 100  # client ids per bulk kick
TIMEOUT = 5.0


@dataclass(frozen=True)
class Answer:
    status: int
    data: bytes

    def json(self):
        return json.loads(self.data or b"null")


class EmqxError(Exception):
    """EMQX did not do what was asked; ``retry`` says whether asking again can help."""

    def __init__(self, message: str, *, status: int | None = None, retry: bool = True):
        super().__init__(message)
        self.status = status
        self.retry = retry


@dataclass
class Emqx:
    url: str
    key: str
    secret: str
    timeout: float = TIMEOUT
    connections: int = 16  # kept alive, one per relay thread

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        if not self.url.endswith("/api/v5"):
            self.url += "/api/v5"
        # urllib3 itself (requests' engine): the relay makes thousands of calls, and requests'
        # per-call work (environment proxies, hooks, cookie jars) was most of their cost.
        self.pool = urllib3.PoolManager(
            maxsize=self.connections,
            block=True,
            retries=False,
            timeout=urllib3.Timeout(total=self.timeout),
            headers={
                **urllib3.make_headers(basic_auth=f"{self.key}:{self.secret}"),
                "Accept": "application/json",
            },
        )

    # --- the calls -----------------------------------------------------------------------

    def request(self, method: str, path: str, *, body=None, params=None, ok=(200, 201, 204)) -> Answer:
        url = self.url + path + (f"?{urlencode(params, doseq=True)}" if params else "")
        try:
            response = self.pool.request(
                method,
                url,
                body=None if body is None else json.dumps(body),
                redirect=False,
                headers=None if body is None else {**self.pool.headers, "Content-Type": "application/json"},
            )
        except urllib3.exceptions.HTTPError as error:
            raise EmqxError(f"EMQX at {self.url} does not answer: {type(error).__name__}") from None
        answer = Answer(response.status, response.data)
        if answer.status in ok:
            return answer
        raise self._error(method, path, answer)

    def _error(self, method: str, path: str, answer: Answer) -> EmqxError:
        try:
            detail = answer.json()
            detail = f"{detail.get('code', '')}: {detail.get('message', '')}".strip(": ")
        except (ValueError, AttributeError):
            detail = answer.data[:200].decode(errors="replace")
        status = answer.status
        what = f"{method} {path} → {status} {detail}".strip()
        if status in (401, 403):
            return EmqxError(
                f"EMQX refused the API key ({what}): check EMQX_API_KEY and its role.",
                status=status,
                retry=False,
            )
        return EmqxError(f"EMQX answered {what}", status=status, retry=status >= 500 or status == 429)

    def clients_of(self, *usernames: str) -> list[dict]:
        """Every live client of these usernames across the cluster (all pages; EMQX 5.6 and
        later take several ``username`` parameters in one query)."""
        found: list[dict] = []
        page = 1
        while True:
            query = [("username", u) for u in usernames] + [("page", page), ("limit", PAGE_LIMIT)]
            answer = self.request("GET", "/clients?" + urlencode(query)).json()
            found.extend(answer.get("data") or [])
            meta = answer.get("meta") or {}
            if not meta.get("hasnext") or page >= 10_000:
                return found
            page += 1

    def client(self, client_id: str) -> dict | None:
        answer = self.request("GET", f"/clients/{quote(client_id, safe='')}", ok=(200, 404))
        return answer.json() if answer.status == 200 else None

    def kick(self, client_id: str) -> bool:
        """Disconnect a client; False when it was already gone."""
        return self.request("DELETE", f"/clients/{quote(client_id, safe='')}", ok=(204, 404)).status == 204

    def kick_all(self, client_ids: list[str]) -> int:
        """Disconnect these clients: one DELETE for one, ``POST /clients/kickout/bulk`` (EMQX
        5.1 and later) for more, in chunks. The number asked to go."""
        if len(client_ids) == 1:
            return int(self.kick(client_ids[0]))
        for start in range(0, len(client_ids), BULK_LIMIT):
            self.request("POST", "/clients/kickout/bulk", body=client_ids[start : start + BULK_LIMIT])
        return len(client_ids)
