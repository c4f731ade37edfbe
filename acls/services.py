"""Reading and saving ACLs: a user's own rules and rule sets, and rule sets themselves.

Every save validates every rule first (all errors at once, by index), checks the
revision the editor loaded (optimistic locking), replaces the whole list in one
transaction, records a revision snapshot and an audit event with before and after, and
asks the broker to refresh the ACL of every affected user's live sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from audit.models import Action, SubjectType
from audit.services import Actor, Subject, record_event
from core.errors import Conflict
from orgs.models import Organization
from sessions.revocations import emit_refresh
from users.models import MqttUser

from .models import AclRevision, AclRule, RuleSet, RuleSetAssignment, rule_set_name_validator
from .policy import Decision, Policy, Rule, compile_policy, validate_rule

MAX_RULES = 1000


class RuleErrors(ValidationError):
    """Invalid rules: ``errors`` maps each invalid rule's index to what is wrong with it."""

    def __init__(self, errors: dict[int, str]):
        self.errors = errors
        super().__init__([f"Rule {i + 1}: {message}" for i, message in sorted(errors.items())])


@dataclass
class Acl:
    """A user's ACL as the editor and the API see it."""

    rules: list[dict]
    rule_sets: list[str] = field(default_factory=list)
    revision: int = 0


@dataclass(frozen=True)
class EffectiveRule:
    """One rule of a user's effective list: where it comes from and its place there."""

    source: str  # "own" or the rule set's name
    position: int  # 0-based within its source
    rule: Rule

    @property
    def label(self) -> str:
        where = "own rule" if self.source == "own" else f"rule set {self.source} rule"
        return f"{where} {self.position + 1}"


def clean_rules(rules: Sequence) -> list[dict]:
    """Validate each rule (dicts or objects); raise RuleErrors listing every invalid one."""
    if len(rules) > MAX_RULES:
        raise ValidationError(f"At most {MAX_RULES} rules per list; this one has {len(rules)}.")
    cleaned, errors = [], {}
    for index, raw in enumerate(rules):
        try:
            if isinstance(raw, dict):
                missing = [k for k in ("permission", "action", "topic") if k not in raw]
                if missing:
                    raise ValueError(f"Missing {', '.join(missing)}.")
                raw = (raw["permission"], raw["action"], raw["topic"])
            rule = validate_rule(raw)
        except (ValueError, TypeError) as error:
            errors[index] = str(error)
            continue
        cleaned.append({"permission": rule.permission, "action": rule.action, "topic": rule.topic})
    if errors:
        raise RuleErrors(errors)
    return cleaned


def user_acl(user: MqttUser) -> Acl:
    return Acl(
        rules=[r.as_dict() for r in user.acl_rules.all()],
        rule_sets=[a.rule_set.name for a in user.rule_set_assignments.select_related("rule_set")],
        revision=user.acl_revision,
    )


def effective_rules(user: MqttUser) -> list[EffectiveRule]:
    """The user's own rules, then each assigned rule set's rules in the order assigned."""
    out = [
        EffectiveRule("own", i, Rule(r.permission, r.action, r.topic))
        for i, r in enumerate(user.acl_rules.all())
    ]
    # A caller listing many users prefetches them (the ACL overview: a constant number of
    # queries); a single user is read here.
    if "rule_set_assignments" in getattr(user, "_prefetched_objects_cache", {}):
        assignments = user.rule_set_assignments.all()
    else:
        assignments = user.rule_set_assignments.select_related("rule_set").prefetch_related("rule_set__rules")
    for assignment in assignments:
        for i, r in enumerate(assignment.rule_set.rules.all()):
            out.append(EffectiveRule(assignment.rule_set.name, i, Rule(r.permission, r.action, r.topic)))
    return out


def compile_user_policy(user: MqttUser, client_id: str | None = None) -> tuple[Policy, list[EffectiveRule]]:
    rules = effective_rules(user)
    return compile_policy([e.rule for e in rules], username=user.name, client_id=client_id), rules


def _stale(what: str, expected: int, current: int) -> Conflict:
    return Conflict(
        f"{what} was changed by someone else since you loaded it (you edited revision {expected}, "
        f"it is now at revision {current}). Reload to see their changes, then apply yours again."
    )


def _replace_rules(*, org, owner: dict, rules: list[dict]) -> None:
    AclRule.objects.filter(**owner).delete()
    AclRule.objects.bulk_create(
        [AclRule(org=org, position=i, **owner, **rule) for i, rule in enumerate(rules)]
    )


def _notify(org: Organization, usernames: list[str], reason: str) -> None:
    for username in usernames:
        emit_refresh(org=org, username=username, reason=reason)


@transaction.atomic
def user_acl_save(
    *,
    user: MqttUser,
    rules: Sequence,
    rule_sets: Sequence[str],
    revision: int,
    actor: Actor,
    request=None,
    comment: str = "",
) -> Acl:
    """Replace a user's own rules and rule set assignments, all at once or not at all."""
    cleaned = clean_rules(rules)
    names = list(rule_sets)
    if len(set(names)) != len(names):
        raise ValidationError({"rule_sets": "A rule set is assigned twice."})
    user = MqttUser.objects.select_for_update(of=("self",)).select_related("org").get(pk=user.pk)
    if user.acl_revision != revision:
        raise _stale(f"The ACL of {user.username}", revision, user.acl_revision)
    found = {rs.name: rs for rs in RuleSet.objects.filter(org=user.org, name__in=names)}
    unknown = [n for n in names if n not in found]
    if unknown:
        raise ValidationError(
            {"rule_sets": f"No rule set named {', '.join(map(repr, unknown))} in this organization."}
        )
    before = user_acl(user)
    _replace_rules(org=user.org, owner={"user": user}, rules=cleaned)
    RuleSetAssignment.objects.filter(user=user).delete()
    RuleSetAssignment.objects.bulk_create(
        [RuleSetAssignment(user=user, rule_set=found[n], position=i) for i, n in enumerate(names)]
    )
    user.acl_revision += 1
    user.save(update_fields=["acl_revision"])
    after = Acl(rules=cleaned, rule_sets=names, revision=user.acl_revision)
    AclRevision.objects.create(
        org=user.org,
        user=user,
        number=user.acl_revision,
        author=actor.label,
        comment=comment[:500],
        snapshot={"rules": cleaned, "rule_sets": names},
    )
    record_event(
        user.org,
        Action.ACL_USER_SAVED,
        actor=actor,
        subject=Subject(SubjectType.MQTT_USER, user.id, user.username),
        request=request,
        before={"rules": before.rules, "rule_sets": before.rule_sets},
        after={"rules": cleaned, "rule_sets": names},
        details={"revision": user.acl_revision, "comment": comment},
    )
    _notify(user.org, [user.username], "acl_changed")
    return after


@transaction.atomic
def rule_set_create(
    *, org: Organization, name: str, description: str = "", actor: Actor, request=None
) -> RuleSet:
    name = (name or "").strip()
    try:
        rule_set_name_validator(name)
    except ValidationError as error:
        raise ValidationError({"name": f"{name!r} is not a valid name. {error.messages[0]}"}) from None
    if len(description) > 500:
        raise ValidationError({"description": "Keep the description under 500 characters."})
    try:
        with transaction.atomic():
            rule_set = RuleSet.objects.create(org=org, name=name, description=description)
    except IntegrityError:
        raise Conflict({"name": f"A rule set named {name!r} already exists in this organization."}) from None
    record_event(
        org,
        Action.ACL_RULE_SET_CREATED,
        actor=actor,
        subject=Subject(SubjectType.RULE_SET, str(rule_set.pk), name),
        request=request,
        after={"name": name, "description": description},
    )
    return rule_set


def _bump_rules_generation(rule_set: RuleSet) -> None:
    """The rules of the users it is assigned to changed: their cached rules are stale
    (acls.cache keys on the generation)."""
    MqttUser.objects.filter(rule_set_assignments__rule_set=rule_set).update(
        rules_generation=F("rules_generation") + 1
    )


def _assigned_usernames(rule_set: RuleSet) -> list[str]:
    return [f"{name}@{rule_set.org_id}" for name in rule_set.assignments.values_list("user__name", flat=True)]


@transaction.atomic
def rule_set_save(
    *,
    rule_set: RuleSet,
    rules: Sequence,
    revision: int,
    actor: Actor,
    request=None,
    comment: str = "",
    description: str | None = None,
) -> RuleSet:
    """Replace a rule set's rules, all at once or not at all; its users' sessions refresh."""
    cleaned = clean_rules(rules)
    rule_set = RuleSet.objects.select_for_update(of=("self",)).select_related("org").get(pk=rule_set.pk)
    if rule_set.revision != revision:
        raise _stale(f"Rule set {rule_set.name}", revision, rule_set.revision)
    before = [r.as_dict() for r in rule_set.rules.all()]
    _replace_rules(org=rule_set.org, owner={"rule_set": rule_set}, rules=cleaned)
    rule_set.revision += 1
    if description is not None:
        rule_set.description = description[:500]
    rule_set.save(update_fields=["revision", "description", "updated_at"])
    AclRevision.objects.create(
        org=rule_set.org,
        rule_set=rule_set,
        number=rule_set.revision,
        author=actor.label,
        comment=comment[:500],
        snapshot={"rules": cleaned},
    )
    record_event(
        rule_set.org,
        Action.ACL_RULE_SET_SAVED,
        actor=actor,
        subject=Subject(SubjectType.RULE_SET, str(rule_set.pk), rule_set.name),
        request=request,
        before={"rules": before},
        after={"rules": cleaned},
        details={"revision": rule_set.revision, "comment": comment},
    )
    _bump_rules_generation(rule_set)
    _notify(rule_set.org, _assigned_usernames(rule_set), "rule_set_changed")
    return rule_set


@transaction.atomic
def rule_set_delete(*, rule_set: RuleSet, actor: Actor, request=None) -> None:
    """Delete a rule set; the users it was assigned to lose its rules (and refresh)."""
    rule_set = RuleSet.objects.select_for_update(of=("self",)).select_related("org").get(pk=rule_set.pk)
    usernames = _assigned_usernames(rule_set)
    _bump_rules_generation(rule_set)
    record_event(
        rule_set.org,
        Action.ACL_RULE_SET_DELETED,
        actor=actor,
        subject=Subject(SubjectType.RULE_SET, str(rule_set.pk), rule_set.name),
        request=request,
        before={"rules": [r.as_dict() for r in rule_set.rules.all()], "assigned_to": usernames},
    )
    # Users it was assigned to get a new ACL revision: their editors must reload.
    MqttUser.objects.filter(rule_set_assignments__rule_set=rule_set).update(
        acl_revision=F("acl_revision") + 1
    )
    rule_set.delete()
    _notify(rule_set.org, usernames, "rule_set_deleted")


def rollback(*, revision: AclRevision, expected_revision: int, actor: Actor, request=None) -> AclRevision:
    """Restore a past revision as a new one (history is never rewritten)."""
    comment = f"Rollback to revision {revision.number}"
    if revision.user_id:
        rule_sets = [
            n
            for n in revision.snapshot.get("rule_sets", [])
            if RuleSet.objects.filter(org_id=revision.org_id, name=n).exists()
        ]
        user_acl_save(
            user=revision.user,
            rules=revision.snapshot["rules"],
            rule_sets=rule_sets,
            revision=expected_revision,
            actor=actor,
            request=request,
            comment=comment,
        )
        return AclRevision.objects.filter(user=revision.user).order_by("-number").first()
    rule_set_save(
        rule_set=revision.rule_set,
        rules=revision.snapshot["rules"],
        revision=expected_revision,
        actor=actor,
        request=request,
        comment=comment,
    )
    return AclRevision.objects.filter(rule_set=revision.rule_set).order_by("-number").first()


@dataclass(frozen=True)
class Simulation:
    """A decision with its explanation: the deciding rule and the rules evaluated before it."""

    decision: Decision
    rules: list[EffectiveRule]
    expanded: list[str | None]

    @property
    def deciding(self) -> EffectiveRule | None:
        index = self.decision.rule_index
        return None if index is None else self.rules[index]

    @property
    def evaluated_before(self) -> list[EffectiveRule]:
        index = self.decision.rule_index
        return self.rules if index is None else self.rules[:index]


def simulate_rules(
    rules: list[EffectiveRule], *, username: str, action: str, topic: str, client_id: str | None = None
) -> Simulation:
    """Decide one check against ``rules`` (saved or being edited) as the broker would."""
    policy = compile_policy([e.rule for e in rules], username=username, client_id=client_id or None)
    return Simulation(policy.decide(action, topic), rules, policy.expanded)


def simulate(user: MqttUser, *, action: str, topic: str, client_id: str | None = None) -> Simulation:
    """Decide one check against the user's saved ACL."""
    return simulate_rules(
        effective_rules(user), username=user.name, action=action, topic=topic, client_id=client_id
    )


@transaction.atomic
def rule_set_assign(*, users: Sequence[MqttUser], name: str, actor: Actor, request=None) -> int:
    """Add rule set ``name`` (last) to each user's ACL, a new revision each, all or none;
    returns how many users it was added to (those that had it already are left alone)."""
    if not RuleSet.objects.filter(org__in={u.org_id for u in users}, name=name).exists():
        raise ValidationError({"rule_sets": f"No rule set named {name!r} in this organization."})
    added = 0
    for user in users:
        acl = user_acl(MqttUser.objects.get(pk=user.pk))
        if name in acl.rule_sets:
            continue
        user_acl_save(
            user=user,
            rules=acl.rules,
            rule_sets=[*acl.rule_sets, name],
            revision=acl.revision,
            actor=actor,
            request=request,
            comment=f"Rule set {name} assigned to several users at once",
        )
        added += 1
    return added
