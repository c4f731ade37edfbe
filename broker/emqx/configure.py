"""The whole EMQX 5.8 integration as REST requests (``manage.py emqx_configure``): the HTTP
authenticator, the HTTP authorization source (last, with ``no_match = deny``), and the HTTP
connector, action and rule that forward connections, disconnections and authorization
results to the dashboard's event hook. Applied idempotently: each resource is read first,
created when missing, changed only when it differs, so a second run changes nothing.
``docs/emqx.md`` shows the same as HOCON."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .api import Emqx

NAME = "cloudsignal"  # the connector's and action's name
RULE_ID = "cloudsignal_events"
AUTHENTICATOR_ID = "password_based:http"
REDACTED = "Bearer [BROKER_HOOK_SECRET]"


@dataclass
class Resource:
    """One thing EMQX must have: where it is read, how it is created, how it is changed."""

    label: str
    read: str
    create: tuple[str, str]
    update: tuple[str, str]
    body: dict
    update_body: dict | None = None
    outcome: str = ""
    requests: list = field(default_factory=list)


def resources(dashboard_url: str, hook_secret: str) -> list[Resource]:
    base = dashboard_url.rstrip("/")
    headers = {"content-type": "application/json", "authorization": f"Bearer {hook_secret}"}
    authn = {
        "mechanism": "password_based",
        "backend": "http",
        "method": "post",
        "url": f"{base}/broker/v1/authn",
        "headers": headers,
        "body": {
            "username": "${username}",
            "password": "${password}",
            "clientid": "${clientid}",
            "peerhost": "${peerhost}",
            "proto_ver": "${proto_ver}",
        },
        "pool_size": 32,
        "connect_timeout": "5s",
        "request_timeout": "5s",
        "enable_pipelining": 100,
        "enable": True,
    }
    authz = {
        "type": "http",
        "enable": True,
        "method": "post",
        "url": f"{base}/broker/v1/authz",
        "headers": headers,
        "body": {
            "username": "${username}",
            "clientid": "${clientid}",
            "topic": "${topic}",
            "action": "${action}",
        },
        "pool_size": 32,
        "connect_timeout": "5s",
        "request_timeout": "5s",
    }
    origin = urlsplit(base)
    connector = {
        "type": "http",
        "name": NAME,
        "enable": True,
        "url": f"{origin.scheme}://{origin.netloc}",
        "headers": headers,
        "pool_size": 16,
        "connect_timeout": "5s",
        "enable_pipelining": 100,
    }
    action = {
        "type": "http",
        "name": NAME,
        "enable": True,
        "connector": NAME,
        "parameters": {
            "method": "post",
            "path": f"{origin.path.rstrip('/')}/broker/v1/events",
            "headers": {"content-type": "application/json"},
            "body": "${.}",  # the whole event, with EMQX's field names
        },
        "resource_opts": {"request_ttl": "45s", "max_buffer_bytes": "256MB", "inflight_window": 100},
    }
    rule = {
        "id": RULE_ID,
        "enable": True,
        "description": "CloudSignal: connections, disconnections and authorization results to the dashboard",
        # event_id: one per event, kept when EMQX resends it (the dashboard records it once).
        "sql": 'SELECT *, uuid_v4() AS event_id FROM "$events/client_connected", '
        '"$events/client_disconnected", "$events/client_check_authz_complete"',
        "actions": [f"http:{NAME}"],
    }

    def without(body: dict, *keys: str) -> dict:
        return {k: v for k, v in body.items() if k not in keys}

    return [
        Resource(
            "HTTP authenticator",
            f"/authentication/{AUTHENTICATOR_ID}",
            ("POST", "/authentication"),
            ("PUT", f"/authentication/{AUTHENTICATOR_ID}"),
            authn,
        ),
        Resource(
            "HTTP authorization source",
            "/authorization/sources/http",
            ("POST", "/authorization/sources"),
            ("PUT", "/authorization/sources/http"),
            authz,
        ),
        Resource(
            "authorization settings",
            "/authorization/settings",
            ("PUT", "/authorization/settings"),
            ("PUT", "/authorization/settings"),
            {
                "no_match": "deny",
                "deny_action": "ignore",
                "cache": {"enable": True, "max_size": 32, "ttl": "1m"},
            },
        ),
        Resource(
            "HTTP connector",
            f"/connectors/http:{NAME}",
            ("POST", "/connectors"),
            ("PUT", f"/connectors/http:{NAME}"),
            connector,
            without(connector, "type", "name"),
        ),
        Resource(
            "HTTP action",
            f"/actions/http:{NAME}",
            ("POST", "/actions"),
            ("PUT", f"/actions/http:{NAME}"),
            action,
            without(action, "type", "name"),
        ),
        Resource(
            "events rule",
            f"/rules/{RULE_ID}",
            ("POST", "/rules"),
            ("PUT", f"/rules/{RULE_ID}"),
            rule,
            without(rule, "id"),
        ),
    ]


def _contains(current, wanted) -> bool:
    """Whether EMQX's copy has every value we want (it adds defaults of its own)."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(_contains(current.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return (
            isinstance(current, list) and len(current) == len(wanted) and all(map(_contains, current, wanted))
        )
    return current == wanted


class Plan:
    """Apply (or, dry, only say) what EMQX needs; ``log`` gets one line per request."""

    def __init__(self, emqx: Emqx, dashboard_url: str, hook_secret: str, *, dry_run: bool = False, log=print):
        self.emqx, self.dry_run, self.log = emqx, dry_run, log
        self.resources = resources(dashboard_url, hook_secret)

    def _say(self, method: str, path: str, body=None) -> None:
        shown = (
            str(body).replace(self.resources[0].body["headers"]["authorization"], REDACTED) if body else ""
        )
        self.log(f"{method} {self.emqx.url}{path} {shown}".rstrip())

    def _send(self, method: str, path: str, body=None):
        self._say(method, path, body)
        if not self.dry_run:
            return self.emqx.request(method, path, body=body)
        return None

    def apply(self) -> list[tuple[str, str]]:
        outcomes = []
        for resource in self.resources:
            current = None
            if not self.dry_run:
                answer = self.emqx.request("GET", resource.read, ok=(200, 404))
                current = answer.json() if answer.status == 200 else None
            if current is None:
                self._send(*resource.create, body=resource.body)
                outcome = "created" if not self.dry_run else "would be created or changed"
            elif _contains(current, resource.body if resource.update_body is None else resource.update_body):
                outcome = "unchanged"
            else:
                self._send(
                    *resource.update,
                    body=resource.body if resource.update_body is None else resource.update_body,
                )
                outcome = "changed"
            outcomes.append((resource.label, outcome))
        outcomes.append(("authorization source order", self._place_http_source_last()))
        return outcomes

    def _place_http_source_last(self) -> str:
        """The HTTP source after any other (a file or built-in database an operator keeps)."""
        if self.dry_run:
            self._send("POST", "/authorization/sources/http/move", {"position": "rear"})
            return "would be last"
        sources = self.emqx.request("GET", "/authorization/sources").json().get("sources") or []
        if sources and sources[-1].get("type") == "http":
            return "last already"
        self._send("POST", "/authorization/sources/http/move", {"position": "rear"})
        return "moved last"
