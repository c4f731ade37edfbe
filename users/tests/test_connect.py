"""The CONNECT query (users.connect): named from the models, decoded by field name, and it
reads only what belongs to the username it was asked for."""

from __future__ import annotations

from dataclasses import fields

from audit.services import Actor
from core import credentials
from orgs.models import Organization
from sessions.models import LiveConnections
from users import connect
from users.models import MqttUser, TempToken
from users.services import user_create
from users.tokens import token_mint


def test_the_query_names_the_tables_and_columns_of_the_models():
    sql = connect._query()
    for model in (Organization, MqttUser, LiveConnections, TempToken):
        assert f'"{model._meta.db_table}"' in sql
    for field in fields(connect.LoadedUser):
        assert f'u."{MqttUser._meta.get_field(field.name).column}"' in sql


def test_a_user_and_its_token_read_back_as_their_models_hold_them(org_a):
    user = org_a.mqtt_user
    token, value = token_mint(org=org_a.org, user=user, actor=Actor.system())
    parsed = credentials.parse_prefixed(value, credentials.TOKEN_PREFIX)
    loaded = connect.load(org_a.org.id, user.name, parsed.id)
    user.refresh_from_db()
    for field in fields(connect.LoadedUser):
        assert getattr(loaded.user, field.name) == getattr(user, field.name), field.name
    for field in fields(connect.LoadedToken):
        assert getattr(loaded.token, field.name) == getattr(token, field.name), field.name
    assert loaded.max_connections == org_a.org.max_connections and loaded.live_connections == 0
    assert loaded.token.matches(parsed) and loaded.token.status == "active"
    wrong = credentials.Prefixed(
        parsed.prefix, parsed.id, parsed.secret[:-1] + ("A" if parsed.secret[-1] != "A" else "B")
    )
    assert not loaded.token.matches(wrong)


def test_a_token_of_another_user_or_org_is_not_read(org_a, org_b):
    other, _ = user_create(org=org_a.org, name="other", actor=Actor.system())
    _, value = token_mint(org=org_a.org, user=other, actor=Actor.system())
    token_id = credentials.parse_prefixed(value, credentials.TOKEN_PREFIX).id
    assert connect.load(org_a.org.id, org_a.mqtt_user.name, token_id).token is None  # same org
    assert connect.load(org_a.org.id, "other", token_id).token is not None
    assert connect.load(org_b.org.id, "other", token_id).user is None  # the name in another org
    assert connect.load("org_nosuchorg000", "other", token_id) is None
