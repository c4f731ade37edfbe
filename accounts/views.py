"""Sign-up, sign-in, sign-out and password change for dashboard accounts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import throttle
from .forms import EmailAuthenticationForm, SignupForm, StyledPasswordChangeForm
from .services import account_signup


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is turned off on this installation.")
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, org = account_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                org_name=form.cleaned_data["org_name"],
                request=request,
            )
        except IntegrityError:  # the same email signed up a moment ago
            form.add_error("email", "An account with this email already exists. Sign in instead.")
            return render(request, "accounts/signup.html", {"form": form})
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome! {org.name} is ready.")
        return redirect("detection:overview", org_id=org.id)
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "signup_enabled": settings.SIGNUP_ENABLED}

    def post(self, request, *args, **kwargs):
        username = throttle.normal_username(request, None)
        if throttle.wider_limit_reached(request, username):
            return locked_out(request)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if self.request.POST.get("password"):
            throttle.count_failure(self.request, throttle.normal_username(self.request, None))
        return super().form_invalid(form)


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = StyledPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)  # stay signed in on this device
        messages.success(request, "Your password was changed.")
        return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


def cooloff() -> str:
    """How long a paused sign-in waits, in words (the lockout page tells the person)."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME * 60))
    return (
        f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes < 120 else f"{round(minutes / 60)} hours"
    )


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page of a paused sign-in (django-axes' AXES_LOCKOUT_CALLABLE, and the wider
    per-address and per-account limits): what happened and when to try again."""
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, {"cooloff": cooloff()}, status=429)
