"""The revocation relay for EMQX: what the embedded broker does with the revocation feed
(drop a revoked token's session, a disabled user's, one client an admin disconnected, and
re-apply a changed ACL), done through EMQX's REST API.

It follows the feed from its kept cursor (``sessions.FeedCursor``), a batch at a time. Each
entry becomes kicks: a username's clients (``GET /clients?username=``), the clients of one
token (the dashboard's own sessions know which connection used it; EMQX does not), or one
client id. A ``refresh`` is a kick too: EMQX cannot replace a live client's ACL, and the
client reconnects with its new one. A client id is only kicked after EMQX confirms it belongs
to the entry's username (client ids are not per org: one org's Disconnect must never reach
another org's client of the same id).

Nothing is dropped: an entry whose kick fails is retried, with backoff, until EMQX takes it;
the cursor moves past a batch only when all of it is applied. A crash mid-batch applies that
batch's finished entries again on restart (a kick of a gone client is a 404, harmless).
A batch's whole users are looked up a few at a time (several usernames per query) and its
clients kicked in bulk (``POST /clients/kickout/bulk``; a single one with DELETE), on a few
threads.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import close_old_connections
from django.utils import timezone

from sessions.models import FeedCursor, MqttSession, Revocation
from sessions.revocations import feed_after, latest_cursor

from .api import Emqx, EmqxError

log = logging.getLogger("cloudsignal.emqx_relay")
CURSOR = "emqx"
USERS_PER_QUERY = 50  # usernames in one GET /clients
KICKS_PER_CALL = 100  # client ids in one bulk kick


@dataclass(frozen=True)
class Target:
    """What one feed entry asks to drop (entries naming the same target are one kick)."""

    username: str
    token_id: str = ""
    client_id: str = ""

    @classmethod
    def of(cls, entry: Revocation) -> Target:
        return cls(entry.username, entry.token_id, entry.client_id)


def position() -> int:
    """The kept cursor. A relay's first start begins at the feed's end: what was revoked
    before EMQX was connected to the dashboard has no client there to drop."""
    cursor, created = FeedCursor.objects.get_or_create(name=CURSOR, defaults={"position": latest_cursor()})
    if created:
        log.info("EMQX relay starts following the revocation feed at #%d", cursor.position)
    return cursor.position


def status() -> dict:
    """How far behind the relay is: entries not applied yet and the age of the oldest."""
    at = FeedCursor.objects.filter(name=CURSOR).values_list("position", flat=True).first()
    if at is None:
        return {"cursor": None, "behind": 0, "oldest_pending_seconds": 0.0}
    oldest = Revocation.objects.filter(id__gt=at).order_by("id").values_list("created_at", flat=True).first()
    return {
        "cursor": at,
        "behind": Revocation.objects.filter(id__gt=at).count(),
        "oldest_pending_seconds": round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0.0,
    }


class Relay:
    def __init__(
        self,
        emqx: Emqx,
        *,
        batch: int = 500,
        workers: int = 16,
        poll: float = 0.1,
        backoff: tuple[float, float] = (0.2, 10.0),
    ):
        self.emqx, self.batch, self.poll, self.backoff = emqx, batch, poll, backoff
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emqx-kick")
        self.stopping = threading.Event()
        self.kicks = 0

    # --- a batch's targets ---------------------------------------------------------------

    def _checked(self, target: Target) -> list[str]:
        """A token's or one client's connections, each confirmed to be that username's."""
        if target.client_id:
            candidates = [target.client_id]
        else:
            candidates = list(
                dict.fromkeys(
                    MqttSession.objects.filter(
                        username=target.username, token_id=target.token_id, disconnected_at=None
                    ).values_list("client_id", flat=True)
                )
            )
            close_old_connections()  # the pool's threads use the database too
        found = (self.emqx.client(c) for c in candidates)
        return [
            c
            for c, info in zip(candidates, found, strict=True)
            if info and info.get("username") == target.username
        ]

    def _of_users(self, usernames: list[str]) -> list[str]:
        wanted = set(usernames)
        return [c["clientid"] for c in self.emqx.clients_of(*usernames) if c.get("username") in wanted]

    def client_ids(self, targets: list[Target]) -> list[str]:
        """The live clients the targets name: whole users in a few queries (several usernames
        each), tokens and single clients checked one by one; in parallel."""
        users = [t.username for t in targets if not t.client_id and not t.token_id]
        chunks = [users[i : i + USERS_PER_QUERY] for i in range(0, len(users), USERS_PER_QUERY)]
        singles = [t for t in targets if t.client_id or t.token_id]
        found = list(self.pool.map(self._of_users, chunks)) + list(self.pool.map(self._checked, singles))
        return list(dict.fromkeys(c for ids in found for c in ids))

    # --- the feed ------------------------------------------------------------------------

    def step(self) -> int:
        """Apply the next batch, retrying until EMQX takes it; the entries applied. A retry
        looks the clients up again, so one kicked already is not kicked twice."""
        entries = feed_after(position(), self.batch)
        if not entries:
            return 0
        targets = list(dict.fromkeys(Target.of(e) for e in entries))
        delay = self.backoff[0]
        while True:
            try:
                ids = self.client_ids(targets)
                chunks = [ids[i : i + KICKS_PER_CALL] for i in range(0, len(ids), KICKS_PER_CALL)]
                self.kicks += sum(self.pool.map(self.emqx.kick_all, chunks))
                break
            except EmqxError as error:
                log.warning(
                    "EMQX did not take %d revocation(s), retrying in %.1f s: %s", len(entries), delay, error
                )
                if self.stopping.wait(delay):
                    raise InterruptedError(
                        "stopped with entries not applied; the cursor stays before them"
                    ) from None
                delay = min(delay * 2, self.backoff[1])
        FeedCursor.objects.update_or_create(name=CURSOR, defaults={"position": entries[-1].id})
        return len(entries)

    def run(self, *, report_every: float = 30.0) -> None:
        """Follow the feed until stopped; logs how far behind it is now and then."""
        reported = 0.0
        while not self.stopping.is_set():
            try:
                applied = self.step()
            except InterruptedError:
                break
            now = time.monotonic()
            if now - reported >= report_every:
                log.info("EMQX relay: %s", status())
                reported = now
            if not applied:
                self.stopping.wait(self.poll)
        self.pool.shutdown(wait=True)

    def stop(self) -> None:
        self.stopping.set()
