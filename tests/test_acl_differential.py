"""One ACL semantics everywhere: the simulator's policy (``acls.policy``, Python) and the
broker's evaluator (``broker/node/src/acl.js``, run by Node.js on the ``acl`` the authn hook
answers) decide 100,000 generated cases alike, deciding rule included.

The cases are built to be close calls: rules and topics share a small alphabet of levels,
wildcards sit on both sides, placeholders expand to client ids that hold wildcards, '/',
'%u' or '${...}', denies come before allows, and some topics are not valid for their action.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import pytest

from acls.policy import compile_policy
from broker.authn import acl_answer

from .workers import ROOT

CASES = 100_000
CHECKS_PER_ACL = 5
ORG = "org_k7xm4pqr2n5t"
LEVELS = ["a", "b", "c", "", "$SYS", "x y", "%u", "%c", "dev-1", "agent-01"]
CLIENT_IDS = ["dev-1", "agent-01", "", "a/b", "+", "#", "%u", "${username}", "c", "a"]
NAMES = ["agent-01", "dev-1", "a"]


def _filter(rnd: random.Random, *, placeholders: bool) -> str:
    levels = []
    for _ in range(rnd.randint(1, 4)):
        level = rnd.choice([*LEVELS, "+", "+"])
        if not placeholders and level in ("%u", "%c"):
            level = "a"
        levels.append(level)
    if rnd.random() < 0.35:
        levels = [*levels[: rnd.randint(0, len(levels))], "#"]
    return "/".join(levels) or "+"


def _subject(rnd: random.Random, action: str, name: str, client_id: str) -> str:
    values = {"%u": name, "%c": client_id or "c"}
    if rnd.random() < 0.05:  # not valid for its action: both must refuse it
        return rnd.choice(["a/#/b", "a+/b", "", "a/b#"] if action == "subscribe" else ["a/+", "a/#", "", "+"])
    text = _filter(rnd, placeholders=True)
    text = "/".join(values.get(level, level) for level in text.split("/"))
    if action == "publish":
        text = "/".join("w" if level in ("+", "#") else level for level in text.split("/"))
    return text


def generate(seed: int = 20261201):
    rnd = random.Random(seed)
    for _ in range(CASES // CHECKS_PER_ACL):
        rules = [
            (
                rnd.choice(["allow", "allow", "deny"]),
                rnd.choice(["publish", "subscribe", "all"]),
                _filter(rnd, placeholders=True),
            )
            for _ in range(rnd.randint(0, 8))
        ]
        name, client_id = rnd.choice(NAMES), rnd.choice(CLIENT_IDS)
        checks = []
        for _ in range(CHECKS_PER_ACL):
            action = rnd.choice(["publish", "subscribe"])
            checks.append((action, _subject(rnd, action, name, client_id)))
        yield rules, name, client_id, checks


def python_decisions(rules, name, client_id, checks) -> tuple[list[dict], list[str]]:
    """The acl the hook would answer, and the policy's decision of each check written as the
    evaluator writes it (the deciding rule's index in that acl)."""
    acl = acl_answer(rules, org_id=ORG, name=name, client_id=client_id)
    policy = compile_policy(rules, username=name, client_id=client_id or None)
    # The acl leaves out the rules that match nothing: map policy indices to acl indices.
    position, kept = {}, 0
    for index, topic in enumerate(policy.expanded):
        if topic is not None:
            position[index] = kept
            kept += 1
    out = []
    for action, topic in checks:
        decision = policy.decide(action, topic)
        if decision.reason == "invalid":
            index = -1
        elif decision.rule_index is None:
            index = len(acl) - 1  # the catch-all deny
        else:
            index = position[decision.rule_index]
        out.append(("+" if decision.allowed else "") + str(index))
    return acl, out


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is installed by make test")
def test_the_policy_and_the_broker_evaluator_decide_100000_cases_alike():
    lines, expected, cases = [], [], []
    for rules, name, client_id, checks in generate():
        acl, decisions = python_decisions(rules, name, client_id, checks)
        full = [(action, topic if topic == "" else f"{ORG}/{topic}") for action, topic in checks]
        lines.append(json.dumps({"acl": acl, "checks": full}))
        expected.append(decisions)
        cases.append((rules, name, client_id, checks))
    result = subprocess.run(
        ["node", str(ROOT / "broker" / "node" / "tools" / "decide.js")],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    got = [line.split(",") for line in result.stdout.splitlines()]
    assert len(got) == len(expected)
    disagreements = [
        (case, mine, theirs)
        for case, mine, theirs in zip(cases, expected, got, strict=True)
        if mine != theirs
    ]
    total = sum(len(d) for d in expected)
    assert total == CASES
    first = disagreements[:3]
    assert disagreements == [], f"{len(disagreements)} of {len(cases)} ACLs disagree; first: {first}"
    # The cases exercise both outcomes and every kind of decision.
    flat = [d for decisions in expected for d in decisions]
    assert sum(d.startswith("+") for d in flat) > CASES // 10
    assert sum(d == "-1" for d in flat) > CASES // 100
