"""ACL pages: rule sets, the editor of a user's ACL or a rule set, history, simulator.

The editor posts its whole form on every change; ``op`` says what to do (see
``acls.editor``). Tenancy comes from the middleware; reads go through ``request.tenant``.
"""

from __future__ import annotations

import difflib

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import Actor
from core.forms import add_service_errors
from core.http import OrgRequest
from core.pages import back_within_org, render_page
from core.text import counted
from orgs.tenancy import sensitive
from users.bulk import selected
from users.models import MqttUser, TempToken
from users.snippets import snippet_topic

from . import editor as ed
from . import services
from .forms import RuleSetCreateForm, SimulatorForm
from .lint import lint_rule_set_sharing, lint_rules, score
from .models import AclRevision, RuleSet
from .services import RuleErrors


def index(request: OrgRequest, org_id: str, form: RuleSetCreateForm | None = None) -> HttpResponse:
    """Rule sets, and the least-privilege summary of every user."""
    tenant = request.tenant
    rule_sets = (
        tenant.scope(RuleSet)
        .prefetch_related("rules")
        .annotate(assigned=Count("assignments"))
        .order_by("name")
    )
    users = (
        tenant.scope(MqttUser)
        .order_by("name")
        .prefetch_related("acl_rules", "rule_set_assignments__rule_set__rules")
    )
    rows = []
    for user in users:
        effective = [e.rule for e in services.effective_rules(user)]
        findings = lint_rules(effective)
        rows.append({"user": user, "rules": len(effective), "findings": findings, "score": score(findings)})
    set_rows = []
    for rs in rule_sets:
        assigned = rs.assigned
        findings = lint_rules(list(rs.rules.all()), owner="rule_set") + lint_rule_set_sharing(
            list(rs.rules.all()), assigned
        )
        set_rows.append({"rule_set": rs, "assigned": assigned, "findings": findings})
    org_score = round(sum(r["score"] for r in rows) / len(rows)) if rows else 100
    context = {
        "users": rows,
        "rule_sets": set_rows,
        "org_score": org_score,
        "form": form or RuleSetCreateForm(),
    }
    return render_page(request, "acls/index.html", context, status=422 if form else 200)


@require_POST
def rule_set_create(request: OrgRequest, org_id: str) -> HttpResponse:
    form = RuleSetCreateForm(request.POST)
    if form.is_valid():
        try:
            rule_set = services.rule_set_create(
                org=request.tenant.org,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=Actor.member(request.user),
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"Rule set {rule_set.name} created: add its rules, then assign it to users."
            )
            return redirect("acls:rule_set", org_id=org_id, name=rule_set.name)
    return index(request, org_id, form=form)


def _editor_context(request, editor, *, user=None, rule_set=None, **extra) -> dict:
    tenant = request.tenant
    if user is not None:
        edit_url = reverse("acls:user_edit", kwargs={"org_id": tenant.org.id, "name": user.name})
        available = [
            n
            for n in tenant.scope(RuleSet).order_by("name").values_list("name", flat=True)
            if n not in editor.rule_sets
        ]
    else:
        edit_url = reverse("acls:rule_set_edit", kwargs={"org_id": tenant.org.id, "name": rule_set.name})
        available = []
    return {
        "editor": editor,
        "edit_url": edit_url,
        "available_sets": available,
        "mqtt_user": user,
        "rule_set": rule_set,
        "choices": ed.CHOICES,
        **extra,
    }


def user_page(request: OrgRequest, org_id: str, name: str) -> HttpResponse:
    """A user's ACL tab: the editor under the user's heading and tabs (users/header.html)."""
    user = request.tenant.get(MqttUser, name=name)
    acl = services.user_acl(user)
    editor = ed.from_rules("user", acl.rules, acl.revision, acl.rule_sets)
    ed.check(editor, org=request.tenant.org, user=user)
    context = _editor_context(request, editor, user=user, tab="acl")
    return render_page(request, "acls/user.html", context)


def user_snippet_note(request: OrgRequest, org_id: str, name: str) -> HttpResponse:
    """The reveal page's note, loaded beside the snippets: whether the user's saved ACL lets
    the snippets publish (the broker acknowledges a denied PUBLISH and drops it, so a
    snippet would seem to work). Empty when it does."""
    user = request.tenant.get(MqttUser, name=name)
    topic = snippet_topic(user)
    policy, _ = services.compile_user_policy(user, client_id=f"{user.name}-1")
    allowed = policy.decide("publish", topic).allowed
    return render(request, "acls/snippet_note.html", {"mqtt_user": user, "topic": topic, "allowed": allowed})


@require_http_methods(["GET", "POST"])
def bulk_assign(request: OrgRequest, org_id: str) -> HttpResponse:
    """The users list's "Assign rule set" control (GET: loaded into its bulk bar) and the
    assignment of one rule set to the checked users (POST), all of them or none."""
    tenant = request.tenant
    if request.method == "GET":
        names = tenant.scope(RuleSet).order_by("name").values_list("name", flat=True)
        return render(request, "acls/bulk_assign.html", {"rule_set_names": list(names)})
    listing = back_within_org(request, org_id, reverse("users:list", kwargs={"org_id": org_id}))
    name = request.POST.get("rule_set", "")
    try:
        users = selected(tenant.scope(MqttUser), request.POST.getlist("name"), field="name", what="MQTT user")
        added = services.rule_set_assign(
            users=users, name=name, actor=Actor.member(request.user), request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        had = len(users) - added
        messages.success(
            request,
            f"Rule set {name} assigned to {counted(added, 'user')}."
            + (f" {had} had it already." if had else ""),
        )
    return redirect(listing)


@require_http_methods(["POST"])
def user_edit(request: OrgRequest, org_id: str, name: str) -> HttpResponse:
    user = request.tenant.get(MqttUser, name=name)
    return _edit(request, "user", user=user)


@require_http_methods(["POST"])
def rule_set_edit(request: OrgRequest, org_id: str, name: str) -> HttpResponse:
    rule_set = request.tenant.get(RuleSet, name=name)
    return _edit(request, "rule_set", rule_set=rule_set)


def _edit(request: OrgRequest, kind: str, *, user=None, rule_set=None) -> HttpResponse:
    """Apply one editor operation to the posted form and answer with the editor (or the
    row messages only, for ``validate`` while typing)."""
    tenant = request.tenant
    # A clicked button posts its op; the form's own (debounced) request asks ?op=validate.
    op = request.POST.get("op") or request.GET.get("op") or "validate"
    editor = ed.from_post(kind, request.POST)
    ed.apply_op(editor, op)
    ed.check(editor, org=tenant.org, user=user, rule_set=rule_set)
    extra: dict = {}
    status = 200
    if op == "validate":
        return render(
            request,
            "acls/editor.html#messages",
            _editor_context(request, editor, user=user, rule_set=rule_set),
        )
    if op == "simulate":
        username = user.name if user else (editor.sim.get("username") or "device-1")
        extra["sim_error"] = ed.run_simulation(editor, username=username)
    if op == "save":
        try:
            if user is not None:
                saved = services.user_acl_save(
                    user=user,
                    rules=editor.rule_dicts(),
                    rule_sets=editor.rule_sets,
                    revision=editor.revision,
                    actor=Actor.member(request.user),
                    request=request,
                    comment=editor.comment,
                )
                editor.revision = saved.revision
            else:
                saved_set = services.rule_set_save(
                    rule_set=rule_set,
                    rules=editor.rule_dicts(),
                    revision=editor.revision,
                    actor=Actor.member(request.user),
                    request=request,
                    comment=editor.comment,
                )
                editor.revision = saved_set.revision
        except RuleErrors as error:
            for index, message in error.errors.items():
                if index < len(editor.rows):
                    editor.rows[index].error = message
            extra["save_error"] = "Nothing was saved: fix the rules marked in red."
            status = 422
        except ValidationError as error:
            extra["save_error"] = " ".join(error.messages)
            extra["conflict"] = "changed by someone else" in extra["save_error"]
            status = 409 if extra["conflict"] else 422
        else:
            editor.comment, editor.dirty = "", False
            extra["saved"] = (
                f"Saved as revision {editor.revision}. Live sessions pick up the change within seconds."
            )
    context = _editor_context(request, editor, user=user, rule_set=rule_set, **extra)
    return render(request, "acls/editor.html#editor", context, status=status)


def rule_set_page(request: OrgRequest, org_id: str, name: str) -> HttpResponse:
    tenant = request.tenant
    rule_set = tenant.get(RuleSet, name=name)
    editor = ed.from_rules("rule_set", [r.as_dict() for r in rule_set.rules.all()], rule_set.revision)
    ed.check(editor, org=tenant.org, rule_set=rule_set)
    context = _editor_context(request, editor, rule_set=rule_set)
    context["assigned"] = rule_set.assignments.select_related("user").order_by("user__name")
    return render_page(request, "acls/rule_set.html", context)


@sensitive
@require_POST
def rule_set_delete(request: OrgRequest, org_id: str, name: str) -> HttpResponse:
    rule_set = request.tenant.get(RuleSet, name=name)
    services.rule_set_delete(rule_set=rule_set, actor=Actor.member(request.user), request=request)
    messages.success(request, f"Rule set {rule_set.name} deleted; its users no longer have its rules.")
    return redirect("acls:index", org_id=org_id)


# --- History -------------------------------------------------------------------------


def _revisions(request: OrgRequest, kind: str, name: str):
    tenant = request.tenant
    if kind == "user":
        target = tenant.get(MqttUser, name=name)
        return target, tenant.scope(AclRevision).filter(user=target), target.acl_revision
    target = tenant.get(RuleSet, name=name)
    return target, tenant.scope(AclRevision).filter(rule_set=target), target.revision


def _lines(revision: AclRevision | None) -> list[str]:
    if revision is None:
        return []
    lines = [
        f"{r['permission']:<5} {r['action']:<9} {r['topic']}" for r in revision.snapshot.get("rules", [])
    ]
    lines += [f"rule set: {n}" for n in revision.snapshot.get("rule_sets", [])]
    return lines


def history(request: OrgRequest, org_id: str, kind: str, name: str) -> HttpResponse:
    """Revisions with author and time, and a diff between any two (?a=N&b=M)."""
    target, revisions, current = _revisions(request, kind, name)
    numbers = list(revisions.values_list("number", flat=True))
    diff = None
    a_num, b_num = request.GET.get("a"), request.GET.get("b")
    if a_num and b_num:
        try:
            a = revisions.filter(number=int(a_num)).first()
            b = revisions.filter(number=int(b_num)).first()
        except ValueError:
            a = b = None
        if a is None or b is None:
            messages.error(request, "Choose two revisions that exist.")
        else:
            diff = list(difflib.ndiff(_lines(a), _lines(b)))
    context = {
        "target": target,
        "kind": kind,
        "revisions": revisions[:200],
        "numbers": numbers,
        "current": current,
        "diff": diff,
        "a": a_num,
        "b": b_num,
    }
    return render_page(request, "acls/history.html", context)


@require_POST
def rollback(request: OrgRequest, org_id: str, kind: str, name: str, number: int) -> HttpResponse:
    target, revisions, current = _revisions(request, kind, name)
    revision = revisions.filter(number=number).first()
    if revision is None:
        messages.error(request, f"There is no revision {number}.")
    else:
        try:
            expected = int(request.POST.get("current", current))
            new = services.rollback(
                revision=revision,
                expected_revision=expected,
                actor=Actor.member(request.user),
                request=request,
            )
        except (ValidationError, ValueError) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, f"Revision {number} restored as revision {new.number}.")
    return redirect(f"acls:{kind}_history", org_id=org_id, name=name)


# --- Simulator -------------------------------------------------------------------------


@require_http_methods(["GET"])
def simulator(request: OrgRequest, org_id: str) -> HttpResponse:
    """Decide one check against a user's (or a token's user's) saved ACL. A GET: it changes
    nothing, so auditors use it too, and a result can be shared as a link."""
    tenant = request.tenant
    form = SimulatorForm(request.GET or None, users=tenant.scope(MqttUser).order_by("name"))
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["token"]:
            token = (
                tenant.scope(TempToken)
                .select_related("user")
                .filter(pk=data["token"].removeprefix("cst_"))
                .first()
            )
            user = token.user if token else None
            if user is None:
                form.add_error("token", "No such token in this organization.")
        else:
            user = tenant.scope(MqttUser).filter(name=data["user"]).first()
        if user is not None:
            result = services.simulate(
                user, action=data["action"], topic=data["topic"], client_id=data["client_id"] or None
            )
            result = {"simulation": result, "user": user}
    return render_page(
        request,
        "acls/simulator.html",
        {"form": form, "result": result},
        status=422 if form.is_bound and form.errors else 200,
    )
