"""The embedded broker: amqtt with a plugin that speaks only the HTTP contract.

Its configuration is the dashboard URL and the hook secret, so it behaves as an EMQX
cluster in front of the same dashboard would:

- one POST /broker/v1/authn per CONNECT; the returned ACL is compiled with
  ``acls.policy`` and enforced in the broker for every SUBSCRIBE, PUBLISH and delivery
  (no HTTP call per message); a token session is dropped at its ``expire_at``;
- GET /broker/v1/revocations polled twice a second: disconnects happen, refreshes
  re-authenticate the live session and replace its ACL without dropping it;
- events (connected, disconnected, denied publishes) are POSTed in batches every half
  second; while the dashboard is unreachable new connections are refused (fail closed),
  live sessions keep their grants, and events wait in a bounded buffer, retried with
  backoff.

Django-free on purpose: it imports only ``acls.policy``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from acls.policy import Policy, compile_policy

logger = logging.getLogger("cloudsignal.broker")
MAX_BATCH = 500


def transport_of(listener) -> str:
    is_ws = str(getattr(listener, "type", "tcp")) == "ws"
    secure = bool(getattr(listener, "ssl", False))
    return ("wss" if secure else "ws") if is_ws else ("mqtts" if secure else "mqtt")


class DashboardBroker(Broker):
    """amqtt's broker, telling the plugin which listener (transport) a client came in on."""

    async def _authenticate(self, session, listener) -> bool:  # type: ignore[override]
        session.attributes["transport"] = transport_of(listener)
        return await super()._authenticate(session, listener)


@dataclass
class Grant:
    """What the dashboard allowed one connected client."""

    username: str
    policy: Policy
    connected_at_ms: int
    token_id: str = ""
    expire_at: float | None = None
    transport: str = ""
    kick_reason: str = ""


@dataclass
class Outbox:
    """Events waiting to be posted; bounded so an outage cannot exhaust memory."""

    events: deque = field(default_factory=lambda: deque(maxlen=100_000))

    def add(self, event: dict) -> None:
        self.events.append(event)


def policy_from_acl(acl: list[dict], username: str, client_id: str) -> Policy:
    """The broker's compiled form of the ``acl`` of an authn answer (already expanded)."""
    rules = [(r["permission"], r["action"], r["topic"]) for r in acl]
    return compile_policy(rules, username=username, client_id=client_id)


class DashboardPlugin(BaseAuthPlugin, BaseTopicPlugin):
    """Authenticates, authorizes and reports through the dashboard's hook API."""

    @dataclass
    class Config:
        dashboard_url: str = "http://127.0.0.1:8000"
        hook_secret: str = ""
        node: str = "amqtt@localhost"
        poll_interval: float = 0.25
        flush_interval: float = 0.5
        timeout: float = 5.0
        max_buffered_events: int = 100_000

    def __init__(self, context) -> None:
        super().__init__(context)
        self.grants: dict[str, Grant] = {}
        self.outbox = Outbox(deque(maxlen=self.config.max_buffered_events))
        self.http: aiohttp.ClientSession | None = None
        self.tasks: list[asyncio.Task] = []
        self.cursor: int | None = None

    # --- HTTP -------------------------------------------------------------------------

    def _client(self) -> aiohttp.ClientSession:
        if self.http is None or self.http.closed:
            self.http = aiohttp.ClientSession(
                base_url=self.config.dashboard_url.rstrip("/") + "/",
                # A fresh connection per call: a server that half-keeps an idle keep-alive
                # connection must not stall the revocation poll (seen with Django's test
                # server); the cost is one loopback handshake per call.
                connector=aiohttp.TCPConnector(force_close=True, limit=200),
                headers={"Authorization": f"Bearer {self.config.hook_secret}"},
                timeout=aiohttp.ClientTimeout(total=self.config.timeout),
            )
        return self.http

    async def _post(self, path: str, body: Any) -> dict:
        async with self._client().post(path, json=body) as response:
            response.raise_for_status()
            return await response.json()

    # --- Authentication and authorization -----------------------------------------------

    async def _ask_authn(self, session) -> dict:
        return await self._post(
            "broker/v1/authn",
            {
                "username": session.username or "",
                "password": session.password or "",
                "clientid": session.client_id or "",
                "peerhost": session.remote_address or "",
                "transport": session.attributes.get("transport", ""),
                "proto_ver": "4",
            },
        )

    async def _start_cursor(self) -> None:
        """Where the revocation feed stands now. It must be known before the first client is
        let in: a revocation made between that client's CONNECT and a later first poll
        would otherwise be skipped."""
        if self.cursor is None:
            async with self._client().get("broker/v1/revocations") as response:
                response.raise_for_status()
                self.cursor = (await response.json())["cursor"]

    async def authenticate(self, *, session) -> bool:
        try:
            await self._start_cursor()
            answer = await self._ask_authn(session)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            logger.warning("refusing %s: the dashboard is unreachable (%s)", session.client_id, error)
            return False  # fail closed
        if answer.get("result") != "allow":
            return False
        try:
            policy = policy_from_acl(answer.get("acl", []), session.username or "", session.client_id or "")
        except ValueError as error:
            logger.error("refusing %s: unusable ACL from the dashboard (%s)", session.client_id, error)
            return False
        token_id = ""
        if (session.password or "").startswith("cst_"):
            token_id = session.password.split("_", 2)[1]
        self.grants[session.client_id] = Grant(
            username=session.username,
            policy=policy,
            connected_at_ms=int(time.time() * 1000),
            token_id=token_id,
            expire_at=answer.get("expire_at"),
            transport=session.attributes.get("transport", ""),
        )
        return True

    async def topic_filtering(self, *, session=None, topic=None, action=None) -> bool:
        grant = self.grants.get(session.client_id) if session else None
        if grant is None or topic is None:
            return False
        if action == Action.PUBLISH:
            allowed = grant.policy.decide("publish", topic).allowed
            if not allowed:
                self.outbox.add(
                    self._event(
                        "client.check_authz_complete",
                        session,
                        grant,
                        action="publish",
                        topic=topic,
                        result="deny",
                    )
                )
            return allowed
        # SUBSCRIBE checks the filter; RECEIVE re-checks each delivery against the current
        # grant, so a narrowed ACL takes effect on live subscriptions too.
        return grant.policy.decide("subscribe", topic).allowed

    # --- Events ---------------------------------------------------------------------------

    def _event(self, name: str, session, grant: Grant, **extra) -> dict:
        return {
            "event": name,
            "node": self.config.node,
            "clientid": session.client_id,
            "username": grant.username,
            "peername": f"{session.remote_address}:{session.remote_port}",
            "proto_ver": "4",
            "transport": grant.transport,
            "connected_at": grant.connected_at_ms,
            "timestamp": int(time.time() * 1000),
            "token_id": grant.token_id,
            **extra,
        }

    async def on_broker_client_connected(self, *, client_id: str, client_session) -> None:
        grant = self.grants.get(client_id)
        if grant is not None:
            self.outbox.add(self._event("client.connected", client_session, grant))

    async def on_broker_client_disconnected(self, *, client_id: str, client_session) -> None:
        grant = self.grants.pop(client_id, None)
        if grant is not None:
            self.outbox.add(
                self._event(
                    "client.disconnected",
                    client_session,
                    grant,
                    reason=grant.kick_reason or "closed",
                    disconnected_at=int(time.time() * 1000),
                )
            )

    # --- Background loops -------------------------------------------------------------------

    async def on_broker_pre_start(self, **_) -> None:
        try:
            await self._start_cursor()
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
            logger.warning("dashboard unreachable at start (%s): refusing clients until it answers", error)

    async def on_broker_post_start(self, **_) -> None:
        self.tasks = [
            asyncio.create_task(loop()) for loop in (self._flush_loop, self._poll_loop, self._expiry_loop)
        ]

    async def on_broker_pre_shutdown(self, **_) -> None:
        await self._flush()  # last chance for what is buffered

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.http is not None:
            await self.http.close()

    async def _flush(self) -> bool:
        if not self.outbox.events:
            return True
        batch = [self.outbox.events[i] for i in range(min(MAX_BATCH, len(self.outbox.events)))]
        try:
            await self._post("broker/v1/events", batch)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            logger.warning("events kept for a retry (%d buffered): %s", len(self.outbox.events), error)
            return False
        for _ in batch:
            self.outbox.events.popleft()
        return True

    async def _flush_loop(self) -> None:
        failures = 0
        while True:
            delay = self.config.flush_interval if failures == 0 else min(5.0, 0.25 * 2**failures)
            await asyncio.sleep(delay)
            failures = 0 if await self._flush() else failures + 1

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.poll_interval)
            try:
                if self.cursor is None:
                    await self._start_cursor()
                async with self._client().get(f"broker/v1/revocations?after={self.cursor}") as response:
                    response.raise_for_status()
                    feed = await response.json()
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                logger.warning("revocation feed unreachable: %s", error)
                continue
            self.cursor = feed["cursor"]
            for item in feed["revocations"]:
                await self._act(item)

    async def _act(self, item: dict) -> None:
        for client_id, grant in list(self.grants.items()):
            if grant.username != item["username"]:
                continue
            if item.get("client_id") and item["client_id"] != client_id:
                continue
            if item["kind"] == "disconnect" and (not item["token_id"] or item["token_id"] == grant.token_id):
                await self.kick(client_id, item["reason"])
            elif item["kind"] == "refresh":
                await self._refresh(client_id, grant)

    async def _refresh(self, client_id: str, grant: Grant) -> None:
        session = self.context.get_session(client_id)
        if session is None:
            return
        try:
            answer = await self._ask_authn(session)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return  # keep the current grant; the next refresh or expiry decides
        if answer.get("result") != "allow":
            await self.kick(client_id, "refused_on_refresh")
            return
        grant.policy = policy_from_acl(answer.get("acl", []), grant.username, client_id)
        grant.expire_at = answer.get("expire_at")

    async def _expiry_loop(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            now = time.time()
            for client_id, grant in list(self.grants.items()):
                if grant.expire_at is not None and grant.expire_at <= now:
                    await self.kick(client_id, "token_expired")

    async def kick(self, client_id: str, reason: str) -> None:
        """Close a client's connection; its disconnect event carries ``reason``."""
        grant = self.grants.get(client_id)
        if grant is not None:
            grant.kick_reason = reason
            grant.expire_at = None
        entry = self.context._broker_instance.sessions.get(client_id)  # noqa: SLF001 (no public API)
        if entry is None:
            return
        _, handler = entry
        logger.info("disconnecting %s (%s)", client_id, reason)
        try:
            await handler.stop()
        except Exception:  # a handler already stopping must not break the loop
            logger.exception("could not stop %s", client_id)
