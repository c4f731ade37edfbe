"""What a CONNECT reads, in one prepared query: whether the org exists, the MQTT user, the
org's connection quota and live connections, and, for a token, the token.

This app owns users and tokens, so it owns the query: tables and columns are named from the
models' ``_meta`` (a renamed column or a moved table changes the query with it) and a row is
decoded by name, not by position. The ORM would take five queries; a model instance costs
more to build than the rest of the check, so the rows become slotted dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache

from core import credentials, rawsql
from core.rawsql import aware
from orgs.models import Organization
from sessions.models import LiveConnections

from .models import MqttUser, TempToken, token_status


@dataclass(slots=True)
class LoadedUser:
    """The user's columns that a CONNECT needs; ``acls.cache.rules_for`` and
    ``users.services.verify_user_secret`` take it as a user. Field names are the model's."""

    id: str
    name: str
    org_id: str
    enabled: bool
    secret_digest: str
    previous_secret_digest: str
    previous_secret_valid_until: datetime | None
    acl_revision: int
    rules_generation: int
    last_seen_at: datetime | None

    @property
    def pk(self) -> str:
        return self.id


@dataclass(slots=True)
class LoadedToken:
    """The columns of the token named by the password, if it is the user's; not yet checked."""

    id: str
    user_id: str
    org_id: str
    secret_digest: str
    expires_at: datetime
    expired_at: datetime | None
    revoked_at: datetime | None

    @property
    def status(self) -> str:
        return token_status(self.revoked_at, self.expired_at, self.expires_at)

    def matches(self, parsed: credentials.Prefixed) -> bool:
        """The presented secret is this token's (constant-time compare of digests)."""
        return credentials.verify(parsed.secret, self.secret_digest)


@dataclass(slots=True)
class Loaded:
    user: LoadedUser | None  # None: the org exists, the user does not
    max_connections: int
    live_connections: int
    token: LoadedToken | None  # None: no token asked for, or none of the user's by that id


def _columns(alias: str, model, names) -> list[str]:
    return [f'{alias}."{model._meta.get_field(name).column}"' for name in names]


_USER_FIELDS = [f.name for f in fields(LoadedUser)]
_TOKEN_FIELDS = [f.name for f in fields(LoadedToken)]
_DATES = {"previous_secret_valid_until", "last_seen_at", "expires_at", "expired_at", "revoked_at"}


@cache
def _query() -> str:
    """Built once from the models. It starts from the org, so an unknown user costs no
    second query; the live count is kept by broker events (counting here would cost more
    than the rest for a large fleet)."""
    o, u, c, t = (m._meta for m in (Organization, MqttUser, LiveConnections, TempToken))

    def col(alias: str, meta, field: str) -> str:
        return f'{alias}."{meta.get_field(field).column}"'

    select = [
        *_columns("u", MqttUser, _USER_FIELDS),
        col("o", o, "max_connections"),
        f"coalesce({col('c', c, 'live')}, 0)",
        *_columns("t", TempToken, _TOKEN_FIELDS),
    ]
    org_id = col("o", o, o.pk.name)
    return " ".join(
        [
            f"SELECT {', '.join(select)}",
            f'FROM "{o.db_table}" o',
            f'LEFT JOIN "{u.db_table}" u ON {col("u", u, "org")} = {org_id} AND {col("u", u, "name")} = %s',
            f'LEFT JOIN "{c.db_table}" c ON {col("c", c, "org")} = {org_id}',
            f'LEFT JOIN "{t.db_table}" t ON {col("t", t, t.pk.name)} = %s'
            f" AND {col('t', t, 'user')} = {col('u', u, u.pk.name)}",
            f"WHERE {org_id} = %s",
        ]
    )


def _decoded(names: list[str], values) -> dict:
    return {
        name: aware(value) if name in _DATES else value for name, value in zip(names, values, strict=True)
    }


def load(org_id: str, name: str, token_id: str | None) -> Loaded | None:
    """The user ``name`` of ``org_id``, its org's quota and live connections, and the token
    ``token_id`` if it is the user's. None when the org does not exist."""
    row = rawsql.fetchone(_query(), [name, token_id, org_id])
    if row is None:
        return None
    n = len(_USER_FIELDS)
    user_values, (max_connections, live), token_values = row[:n], row[n : n + 2], row[n + 2 :]
    user = None
    if user_values[0] is not None:
        user = LoadedUser(**_decoded(_USER_FIELDS, user_values))
        user.enabled = bool(user.enabled)  # SQLite answers 0/1
    token = LoadedToken(**_decoded(_TOKEN_FIELDS, token_values)) if token_values[0] is not None else None
    return Loaded(user, max_connections, live, token)
