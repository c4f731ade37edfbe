"""Least-privilege lint of ACL rules: each finding has a code, a severity, a one-line
reason and a suggested fix. Django-free; rules are (permission, action, topic) like the
policy takes, relative to the org namespace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .policy import Rule, as_rule
from .topics import acl_covers

SEVERITY_WEIGHT = {"high": 30, "medium": 10, "low": 3}
WHOLE_NAMESPACE = {"#", "+/#"}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # high, medium, low
    rule_index: int | None  # index in the list linted; None for the list as a whole
    reason: str
    fix: str


def _applies(action: str, to: str) -> bool:
    """Whether a rule of ``action`` takes part in ``to`` checks."""
    return action == "all" or action == to


def _action_covers(earlier: str, later: str) -> bool:
    return earlier == "all" or earlier == later


def lint_rules(rules: Sequence, *, owner: str = "user") -> list[Finding]:
    """Findings for one ordered list of rules (a user's effective ACL or a rule set)."""
    checked: list[Rule] = [as_rule(r) for r in rules]
    findings: list[Finding] = []
    if not checked and owner == "user":
        findings.append(
            Finding(
                "L006",
                "low",
                None,
                "No rules: this user may connect but neither publish nor subscribe.",
                "Grant the topics it needs, or assign a rule set.",
            )
        )
    for i, rule in enumerate(checked):
        topic = rule.topic
        if rule.permission == "allow":
            if topic in WHOLE_NAMESPACE:
                findings.append(
                    Finding(
                        "L001",
                        "high",
                        i,
                        f"Allows {rule.action} on the whole namespace ({topic}).",
                        "Grant the subtrees the client needs, e.g. devices/%u/#.",
                    )
                )
            elif _applies(rule.action, "publish") and topic.endswith("#"):
                findings.append(
                    Finding(
                        "L002",
                        "medium",
                        i,
                        f"Broad publish: {topic} lets the client write a whole subtree.",
                        "Publish rights are riskier than reads: narrow it, e.g. with %u or exact topics.",
                    )
                )
        if rule.permission == "allow" and _applies(rule.action, "subscribe") and topic.split("/")[-1] == "+":
            parent = topic[: -len("+")]
            findings.append(
                Finding(
                    "L010",
                    "medium",
                    i,
                    f"Also grants subscribing to {parent}#: under EMQX's rules, which the broker "
                    f"follows, a trailing + matches a subscription's # too. On EMQX that client then "
                    f"receives every topic below {parent or 'the namespace'}; the default broker "
                    f"delivers only the topics this ACL allows.",
                    f"Grant the topics it needs by name, or keep it if reading all of {parent}# "
                    f"on EMQX is acceptable.",
                )
            )
        earlier = _first_dominating(checked, i)
        if earlier is not None:
            previous = checked[earlier]
            if previous == rule:
                findings.append(
                    Finding(
                        "L005",
                        "low",
                        i,
                        f"Duplicate of rule {earlier + 1}.",
                        "Delete it.",
                    )
                )
            else:
                findings.append(
                    Finding(
                        "L004",
                        "medium",
                        i,
                        f"Shadowed: rule {earlier + 1} ({previous.permission} {previous.action} "
                        f"{previous.topic}) always decides first, so this rule never does.",
                        "Delete it, or move it above the broader rule if it is meant as an exception.",
                    )
                )
        if rule.permission == "deny" and not _allow_follows(checked, i):
            findings.append(
                Finding(
                    "L008",
                    "low",
                    i,
                    "A deny that no allow follows: the default deny already refuses this.",
                    "Delete it, or keep it only as documentation.",
                )
            )
        if topic.startswith("/"):
            findings.append(
                Finding(
                    "L011",
                    "medium",
                    i,
                    f"Starts with /: its first level is empty, so it matches {topic} but not "
                    f"{topic.lstrip('/') or 'a topic without the slash'}.",
                    f"Write {topic.lstrip('/') or 'the topic'} unless clients really publish a leading /.",
                )
            )
        if "//" in topic.strip("/") or topic.endswith("/") and len(topic) > 1:
            findings.append(
                Finding(
                    "L012",
                    "low",
                    i,
                    f"An empty level in {topic}: MQTT treats a/b and a//b and a/b/ as different topics.",
                    "Remove the extra slash, or keep it only if the clients publish exactly that.",
                )
            )
        if topic.startswith("$"):
            findings.append(
                Finding(
                    "L013",
                    "medium",
                    i,
                    f"{topic} names a $ topic: those are the broker's own ($SYS), and a rule inside "
                    "the org namespace never matches them.",
                    "Remove it; broker statistics are not granted per org.",
                )
            )
        if topic != topic.strip() or (topic and not topic.strip()):
            findings.append(
                Finding(
                    "L014",
                    "medium",
                    i,
                    "Leading or trailing spaces are part of the topic: this rule matches only topics "
                    "that have them.",
                    "Remove the spaces.",
                )
            )
        if topic.startswith("org_") and "/" in topic:
            findings.append(
                Finding(
                    "L009",
                    "medium",
                    i,
                    "Starts with an org id, but rules are relative to the org namespace.",
                    f"Write {topic.split('/', 1)[1]} instead: the org prefix is added for you.",
                )
            )
    return findings


def _first_dominating(rules: list[Rule], i: int) -> int | None:
    """The first earlier rule that decides every check rule ``i`` could decide."""
    rule = rules[i]
    for j in range(i):
        other = rules[j]
        if _action_covers(other.action, rule.action) and acl_covers(other.topic, rule.topic):
            return j
    return None


def _allow_follows(rules: list[Rule], i: int) -> bool:
    deny = rules[i]
    return any(
        later.permission == "allow"
        and (deny.action == "all" or later.action == "all" or later.action == deny.action)
        for later in rules[i + 1 :]
    )


def lint_rule_set_sharing(rules: Sequence, assigned_users: int) -> list[Finding]:
    """A per-device subtree granted to many users without %u (rule sets shared by users)."""
    if assigned_users < 2:
        return []
    findings = []
    for i, rule in enumerate(as_rule(r) for r in rules):
        levels = rule.topic.split("/")
        if rule.permission != "allow" or "%" in rule.topic or len(levels) < 3 or levels[-1] != "#":
            continue
        device_level = levels[-2]
        if device_level not in ("+", "#"):
            findings.append(
                Finding(
                    "L007",
                    "medium",
                    i,
                    f"Grants the subtree {'/'.join(levels[:-1])}/ to {assigned_users} users: "
                    "if it belongs to one device, every user can act as it.",
                    f"Write {'/'.join([*levels[:-2], '%u', '#'])} so each user gets its own subtree.",
                )
            )
    return findings


def score(findings: Sequence[Finding]) -> int:
    """0 to 100: 100 is least privilege with no finding."""
    return max(0, 100 - sum(SEVERITY_WEIGHT[f.severity] for f in findings))
