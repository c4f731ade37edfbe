"""REST endpoints of ACLs (scope ``manage``): a user's ACL, rule sets, the simulator."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from core.api import (
    ERRORS,
    ApiError,
    ErrorOut,
    Mapped,
    Paging,
    Scope,
    Text,
    org_of,
    require_scope,
    scoped,
    scoped_get,
)
from core.http import OrgRequest
from orgs.api_auth import actor_of
from users.api import user_by_name
from users.models import TempToken

from . import services
from .models import RuleSet

acl_router = Router(tags=["ACLs"])
rule_sets_router = Router(tags=["ACLs"])
simulate_router = Router(tags=["ACLs"])


class RuleIO(Schema):
    permission: Text = Field(..., max_length=16, description="allow or deny")
    action: Text = Field(..., max_length=16, description="publish, subscribe or all")
    topic: Text = Field(..., max_length=65_535, description="A filter relative to the org namespace; %u, %c")


class AclIn(Schema):
    rules: list[RuleIO] = Field(..., max_length=services.MAX_RULES)
    rule_sets: list[Text] = Field(default_factory=list, max_length=100)
    revision: int = Field(..., description="The revision you read; a stale one gets 409")
    comment: Text = Field("", max_length=500)


class AclOut(Schema):
    rules: list[RuleIO]
    rule_sets: list[str]
    revision: int


class RuleErrorOut(Schema):
    index: int
    reason: str


class RuleErrorsOut(Schema):
    detail: str
    errors: list[RuleErrorOut]


class RuleSetIn(Schema):
    name: Text = Field(..., max_length=200)
    description: Text = Field("", max_length=500)
    rules: list[RuleIO] = Field(default_factory=list, max_length=services.MAX_RULES)


class RuleSetPut(Schema):
    rules: list[RuleIO] = Field(..., max_length=services.MAX_RULES)
    revision: int
    description: Text | None = Field(None, max_length=500)
    comment: Text = Field("", max_length=500)


class RuleSetOut(Schema):
    name: str
    description: str
    rules: list[RuleIO]
    revision: int
    assigned_users: int


class SimulateIn(Schema):
    user: Text | None = Field(None, max_length=200, description="An MQTT user's name")
    token: Text | None = Field(None, max_length=64, description="Or a token id: its user is simulated")
    client_id: Text | None = Field(None, max_length=256)
    action: Text = Field(..., max_length=16, description="publish or subscribe")
    topic: Text = Field(..., max_length=65_535)


class DecidingRuleOut(RuleIO):
    source: str
    position: int


class SimulateOut(Schema):
    allowed: bool
    rule: DecidingRuleOut | None
    source: str
    reason: str


ACL_ERRORS = {**ERRORS, 422: RuleErrorsOut | ErrorOut}


def _with_counts(rule_sets: QuerySet[RuleSet]) -> QuerySet[RuleSet]:
    """Rule sets with their rules and assignment count read in two queries for any page."""
    return rule_sets.prefetch_related("rules").annotate(assigned_users=Count("assignments"))


def _rule_set(request: OrgRequest, name: str) -> RuleSet:
    return scoped_get(
        request,
        _with_counts(scoped(request, RuleSet).select_related("org")),
        f"No rule set named {name!r} in this organization.",
        name=name,
    )


def _rules(body_rules: list[RuleIO]) -> list[dict]:
    return [r.dict() for r in body_rules]


def _rule_set_out(rule_set: RuleSet) -> dict:
    return {
        "name": rule_set.name,
        "description": rule_set.description,
        "revision": rule_set.revision,
        "rules": [r.as_dict() for r in rule_set.rules.all()],
        "assigned_users": rule_set.assigned_users,
    }


@acl_router.get("/{name}/acl", response={200: AclOut, **ERRORS}, summary="Read a user's ACL")
def get_acl(request: OrgRequest, name: str):
    require_scope(request, Scope.MANAGE)
    return services.user_acl(user_by_name(request, name)).__dict__


@acl_router.put("/{name}/acl", response={200: AclOut, **ACL_ERRORS}, summary="Replace a user's ACL")
def put_acl(request: OrgRequest, name: str, body: AclIn):
    require_scope(request, Scope.MANAGE)
    acl = services.user_acl_save(
        user=user_by_name(request, name),
        rules=_rules(body.rules),
        rule_sets=body.rule_sets,
        revision=body.revision,
        actor=actor_of(request),
        request=request,
        comment=body.comment,
    )
    return acl.__dict__


@rule_sets_router.get("", response={200: list[RuleSetOut], **ERRORS}, summary="List rule sets")
@paginate(Paging)
def list_rule_sets(request: OrgRequest):
    require_scope(request, Scope.MANAGE)
    return Mapped(_with_counts(scoped(request, RuleSet)).order_by("name"), _rule_set_out)


@rule_sets_router.post("", response={201: RuleSetOut, **ACL_ERRORS}, summary="Create a rule set")
def create_rule_set(request: OrgRequest, body: RuleSetIn):
    require_scope(request, Scope.MANAGE)
    rules = services.clean_rules(_rules(body.rules))  # refuse bad rules before creating anything
    rule_set = services.rule_set_create(
        org=org_of(request),
        name=body.name,
        description=body.description,
        actor=actor_of(request),
        request=request,
    )
    if rules:
        rule_set = services.rule_set_save(
            rule_set=rule_set, rules=rules, revision=0, actor=actor_of(request), request=request
        )
    return Status(201, _rule_set_out(_rule_set(request, rule_set.name)))


@rule_sets_router.get("/{name}", response={200: RuleSetOut, **ERRORS}, summary="Read a rule set")
def get_rule_set(request: OrgRequest, name: str):
    require_scope(request, Scope.MANAGE)
    return _rule_set_out(_rule_set(request, name))


@rule_sets_router.put(
    "/{name}", response={200: RuleSetOut, **ACL_ERRORS}, summary="Replace a rule set's rules"
)
def put_rule_set(request: OrgRequest, name: str, body: RuleSetPut):
    require_scope(request, Scope.MANAGE)
    rule_set = services.rule_set_save(
        rule_set=_rule_set(request, name),
        rules=_rules(body.rules),
        revision=body.revision,
        description=body.description,
        actor=actor_of(request),
        request=request,
        comment=body.comment,
    )
    return _rule_set_out(_rule_set(request, rule_set.name))


@rule_sets_router.delete("/{name}", response={204: None, **ERRORS}, summary="Delete a rule set")
def delete_rule_set(request: OrgRequest, name: str):
    require_scope(request, Scope.MANAGE)
    services.rule_set_delete(rule_set=_rule_set(request, name), actor=actor_of(request), request=request)
    return Status(204, None)


@simulate_router.post("", response={200: SimulateOut, **ERRORS}, summary="Decide one check without a broker")
def simulate(request: OrgRequest, body: SimulateIn):
    require_scope(request, Scope.MANAGE)
    if body.action not in ("publish", "subscribe"):
        raise ApiError(422, "action must be publish or subscribe.")
    if bool(body.user) == bool(body.token):
        raise ApiError(422, "Give either user (a name) or token (an id).")
    if body.token:
        user = scoped_get(
            request,
            scoped(request, TempToken).select_related("user", "user__org"),
            f"No token {body.token!r} in this organization.",
            pk=body.token.removeprefix("cst_"),
        ).user
    else:
        user = user_by_name(request, body.user)
    result = services.simulate(user, action=body.action, topic=body.topic, client_id=body.client_id)
    deciding = result.deciding
    return {
        "allowed": result.decision.allowed,
        "rule": None
        if deciding is None
        else {
            **deciding.rule.__dict__,
            "source": deciding.source,
            "position": deciding.position + 1,
        },
        "source": deciding.label if deciding else "default deny",
        "reason": result.decision.reason,
    }
