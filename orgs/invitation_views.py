"""The invitation link's page (/invitations/<id>/<token>/): the invited person sees the
organization, who invited them and as what, and accepts or declines. Not an org page: the
person is not a member yet; the token in the link is the authority."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import invitations


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, invitation_id: str, token: str) -> HttpResponse:
    try:
        found = invitations.find(invitation_id, token)
    except invitations.InvalidInvitation:
        context = {"error": "This invitation link is not valid. Ask who invited you to send it again."}
        return render(request, "orgs/invitation.html", context, status=404)
    context = {"invitation": found, "here": request.path, "error": ""}
    signed_in = request.user.is_authenticated
    context["for_me"] = signed_in and invitations.verified_email_of(request.user, found.email)
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "decline":
                invitations.decline(invitation_id=invitation_id, token=token, request=request)
                messages.success(request, f"You declined to join {found.org.name}.")
                return redirect("home" if signed_in else "account_login")
            if op != "accept":
                raise ValidationError("Choose accept or decline.")
            if not signed_in:
                return redirect_to_login(request.path)
            membership = invitations.accept(
                invitation_id=invitation_id, token=token, user=request.user, request=request
            )
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
            found.refresh_from_db()
            return render(request, "orgs/invitation.html", context, status=409)
        messages.success(
            request, f"Welcome to {found.org.name}: you are {membership.get_role_display().lower()}."
        )
        return redirect("detection:overview", org_id=found.org_id)
    status = 200 if found.status == "pending" else 410
    return render(request, "orgs/invitation.html", context, status=status)
