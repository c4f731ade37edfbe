"""The state of an ACL editor: the rows being edited, their errors and lint findings.

The editor keeps no state on the server between requests: every htmx request posts the
whole form (rows, assigned rule sets, the revision it loaded), the server applies one
operation (add, delete, move, validate, simulate, save) and renders the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import QueryDict

from users.models import MqttUser

from .lint import Finding, lint_rule_set_sharing, lint_rules, score
from .models import RuleSet
from .policy import ACTIONS, PERMISSIONS, Rule, validate_rule
from .services import EffectiveRule, Simulation, simulate_rules

NEW_RULE = {"permission": "allow", "action": "subscribe", "topic": ""}


@dataclass
class Row:
    permission: str
    action: str
    topic: str
    error: str | None = None
    findings: list[Finding] = field(default_factory=list)
    state: str = ""  # "decided" / "evaluated" after a simulation
    focus: bool = False  # the row just added: its topic takes the focus


@dataclass
class SetSection:
    """A rule set assigned to the user being edited, shown read-only below the own rules."""

    name: str
    rows: list[Row]


@dataclass
class Editor:
    kind: str  # "user" or "rule_set"
    rows: list[Row]
    revision: int
    rule_sets: list[str] = field(default_factory=list)
    sections: list[SetSection] = field(default_factory=list)
    comment: str = ""
    # Changed since the revision it loaded (rows added, moved, deleted, typed into, a rule
    # set assigned): the page says so and asks before leaving. Posted back as ``dirty``.
    dirty: bool = False
    findings: list[Finding] = field(default_factory=list)  # those not tied to one own row
    score: int = 100
    simulation: Simulation | None = None
    sim: dict = field(
        default_factory=lambda: {"client_id": "", "action": "publish", "topic": "", "username": "device-1"}
    )

    @property
    def has_errors(self) -> bool:
        return any(r.error for r in self.rows)

    def rule_dicts(self) -> list[dict]:
        return [{"permission": r.permission, "action": r.action, "topic": r.topic} for r in self.rows]


def from_post(kind: str, data: QueryDict) -> Editor:
    permissions, actions, topics = data.getlist("permission"), data.getlist("action"), data.getlist("topic")
    rows = [Row(p, a, t) for p, a, t in zip(permissions, actions, topics, strict=False)]
    try:
        revision = int(data.get("revision", "0"))
    except ValueError:
        revision = -1  # never current: saving answers with the stale-revision conflict
    editor = Editor(
        kind,
        rows,
        revision,
        rule_sets=data.getlist("rule_sets"),
        comment=data.get("comment", ""),
        dirty=data.get("dirty") == "1",
    )
    editor.sim = {k: data.get(f"sim_{k}", v) for k, v in editor.sim.items()}
    return editor


def from_rules(kind: str, rules: list[dict], revision: int, rule_sets: list[str] | None = None) -> Editor:
    return Editor(kind, [Row(**r) for r in rules], revision, rule_sets=list(rule_sets or []))


def apply_op(editor: Editor, op: str) -> None:
    """Add, delete or move a row, or add/remove/move an assigned rule set, in place."""
    verb, _, arg = op.partition(":")
    rows, sets = editor.rows, editor.rule_sets
    if verb in ("add", "assign", "delete", "delete_set", "up", "up_set", "down", "down_set"):
        editor.dirty = True
    if verb == "add":
        rows.append(Row(**NEW_RULE, focus=True))
        return
    if verb == "assign" and arg and arg not in sets:
        sets.append(arg)
        return
    try:
        i = int(arg)
    except ValueError:
        return
    target = sets if verb.endswith("_set") else rows
    if not 0 <= i < len(target):
        return
    if verb in ("delete", "delete_set"):
        target.pop(i)
    elif verb in ("up", "up_set") and i > 0:
        target[i - 1], target[i] = target[i], target[i - 1]
    elif verb in ("down", "down_set") and i < len(target) - 1:
        target[i + 1], target[i] = target[i], target[i + 1]


def check(editor: Editor, *, org, user: MqttUser | None = None, rule_set: RuleSet | None = None) -> None:
    """Fill in each row's error and lint findings, the sections and the score."""
    valid: list[Rule] = []
    for row in editor.rows:
        row.error, row.findings = None, []
        try:
            valid.append(validate_rule((row.permission, row.action, row.topic)))
        except ValueError as error:
            row.error = str(error)
    if editor.kind == "user":
        known = {
            rs.name: rs
            for rs in RuleSet.objects.filter(org=org, name__in=editor.rule_sets).prefetch_related("rules")
        }
        editor.rule_sets = [n for n in editor.rule_sets if n in known]
        editor.sections = [
            SetSection(n, [Row(r.permission, r.action, r.topic) for r in known[n].rules.all()])
            for n in editor.rule_sets
        ]
    if editor.has_errors:
        editor.findings, editor.score = [], 0
        return
    effective = valid + [Rule(r.permission, r.action, r.topic) for s in editor.sections for r in s.rows]
    findings = lint_rules(effective, owner=editor.kind)
    if rule_set is not None:
        findings += lint_rule_set_sharing(valid, rule_set.assignments.count())
    editor.score = score(findings)
    section_rows = [r for s in editor.sections for r in s.rows]
    editor.findings = []
    for finding in findings:
        index = finding.rule_index
        if index is None:
            editor.findings.append(finding)
        elif index < len(editor.rows):
            editor.rows[index].findings.append(finding)
        else:
            section_rows[index - len(editor.rows)].findings.append(finding)


def effective(editor: Editor) -> list[EffectiveRule]:
    own = [EffectiveRule("own", i, Rule(r.permission, r.action, r.topic)) for i, r in enumerate(editor.rows)]
    return own + [
        EffectiveRule(s.name, i, Rule(r.permission, r.action, r.topic))
        for s in editor.sections
        for i, r in enumerate(s.rows)
    ]


def run_simulation(editor: Editor, *, username: str) -> str | None:
    """Simulate the editor's current (unsaved) rules; returns an error message or None."""
    if editor.has_errors:
        return "Fix the rules marked in red before simulating."
    if editor.sim["action"] not in ("publish", "subscribe"):
        return "Choose publish or subscribe."
    if not editor.sim["topic"]:
        return "Enter a topic to simulate."
    rules = effective(editor)
    editor.simulation = simulate_rules(
        rules,
        username=username,
        action=editor.sim["action"],
        topic=editor.sim["topic"],
        client_id=editor.sim["client_id"] or None,
    )
    decided = editor.simulation.decision.rule_index
    all_rows = editor.rows + [r for s in editor.sections for r in s.rows]
    for i, row in enumerate(all_rows):
        row.state = "decided" if i == decided else ("evaluated" if decided is None or i < decided else "")
    return None


CHOICES = {"permissions": PERMISSIONS, "actions": ACTIONS}
