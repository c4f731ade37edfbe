"""Every change of a person's second factors is in the audit log of each org they belong
to (the orgs' admins answer for who can reach their fleet): added, removed, recovery codes
renewed. django-allauth's MFA signals call these."""

from __future__ import annotations

from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.dispatch import receiver

from audit.models import Action, SubjectType
from audit.services import Actor, Subject, record_event
from orgs.models import Membership

KINDS = {
    "totp": "authenticator app",
    "recovery_codes": "recovery codes",
    "webauthn": "security key or passkey",
}


def _record(request, user, authenticator, action: str) -> None:
    kind = KINDS.get(authenticator.type, authenticator.type)
    for membership in Membership.objects.filter(user=user).select_related("org"):
        record_event(
            membership.org,
            action,
            actor=Actor.member(user),
            subject=Subject(SubjectType.ACCOUNT, str(user.pk), user.email),
            request=request,
            details={"factor": kind},
        )


@receiver(authenticator_added)
def _added(sender, request, user, authenticator, **kwargs) -> None:
    _record(request, user, authenticator, Action.ACCOUNT_FACTOR_ADDED)


@receiver(authenticator_removed)
def _removed(sender, request, user, authenticator, **kwargs) -> None:
    _record(request, user, authenticator, Action.ACCOUNT_FACTOR_REMOVED)


@receiver(authenticator_reset)
def _reset(sender, request, user, authenticator, **kwargs) -> None:
    _record(request, user, authenticator, Action.ACCOUNT_FACTOR_RESET)
