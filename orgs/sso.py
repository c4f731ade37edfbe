"""Single sign-on per org through OpenID Connect: the rules, in one place.

- **Configuring** (owners): an issuer the dashboard may reach (core.egress) that answers as
  an OpenID provider for exactly that issuer, a client id and secret (kept sealed), and the
  email domains it covers. A domain belongs to one org, is not a public mail provider, and the
  owner proves it by a verified email of their own in it: an org cannot claim someone else's
  people. A new issuer or client id is a new IdP, so the bindings of the old IdP's
  subjects do not carry over (their bindings are dropped).
- **Admitting** (each SSO sign-in, accounts.sso_adapter): the IdP's subject is bound to one
  account. A subject seen for the first time is accepted only with a verified email in the
  org's domains; an existing account with that email is linked only when it is already a
  member of this org (another org's IdP can never take over an account). Membership is
  created just in time with the default role, or the role mapped from the groups claim; with a
  mapping, each sign-in sets the role again (the IdP is then the source of truth). SSO never
  makes an owner.
- **Password ban**: an org that forbids password sign-in opens its pages only to a session
  that signed in through its IdP (orgs.tenancy asks this module).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.models import Action, SubjectType
from audit.services import Actor, Subject, changed_fields, record_event
from core import egress
from core.sealed import seal, unseal

from .models import Membership, Organization, Role, SsoConfig, SsoDomain

SEAL_PURPOSE = "sso-client-secret"
PROVIDER_PREFIX = "sso-"
SSO_ROLES = (Role.ADMIN, Role.AUDITOR)  # owners are made in the dashboard, never by an IdP
ROLE_RANK = {Role.AUDITOR: 0, Role.ADMIN: 1}
MAX_DOMAINS = 20
DISCOVERY_TIMEOUT = 5.0
# Anyone can have an address there, so no org may claim them.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
        "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com",
        "yandex.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com", "zoho.com",
        "fastmail.com", "tutanota.com", "hey.com", "example.com",
    }
)  # fmt: skip
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower().rstrip(".") if "@" in email else ""


def config_for_provider(provider_id: str) -> SsoConfig | None:
    if not provider_id.startswith(PROVIDER_PREFIX):
        return None
    org_id = provider_id.removeprefix(PROVIDER_PREFIX)
    return SsoConfig.objects.select_related("org").filter(org_id=org_id, enabled=True).first()


def config_for_email(email: str) -> SsoConfig | None:
    """The enabled SSO of the org that covers this email's domain, if any."""
    domain = SsoDomain.objects.select_related("config__org").filter(domain=domain_of(email)).first()
    return domain.config if domain and domain.config.enabled else None


def client_secret(config: SsoConfig) -> str:
    return unseal(config.client_secret_sealed, SEAL_PURPOSE)


# --- configuring -------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What an owner enters; ``client_secret`` empty keeps the stored one."""

    issuer: str
    client_id: str
    client_secret: str
    domains: tuple[str, ...]
    default_role: str = Role.AUDITOR
    group_roles: dict | None = None
    groups_claim: str = "groups"
    password_sign_in: bool = True
    enabled: bool = True


def parse_domains(text: str) -> tuple[str, ...]:
    """Domains from a list separated by commas, spaces or lines; ValidationError naming the
    first that is not a domain."""
    found: list[str] = []
    for raw in re.split(r"[\s,;]+", text or ""):
        domain = raw.strip().lower().rstrip(".").removeprefix("@")
        if not domain:
            continue
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValidationError({"domains": f"{raw!r} is not a domain name."}) from None
        if not _DOMAIN.match(domain):
            raise ValidationError({"domains": f"{raw!r} is not a domain name (like acme.io)."})
        if domain not in found:
            found.append(domain)
    if not found:
        raise ValidationError({"domains": "Name at least one email domain this sign-on covers."})
    if len(found) > MAX_DOMAINS:
        raise ValidationError({"domains": f"At most {MAX_DOMAINS} domains."})
    return tuple(found)


def parse_group_roles(text: str) -> dict:
    """``group = role`` lines; ValidationError naming the line that is wrong."""
    mapping: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        group, sep, role = (part.strip() for part in line.rpartition("="))
        if not sep or not group or len(group) > 200:
            raise ValidationError(
                {"group_roles": f"Line {number}: write it as 'group = admin' or 'group = auditor'."}
            )
        if role not in [r.value for r in SSO_ROLES]:
            raise ValidationError(
                {
                    "group_roles": f"Line {number}: {role!r} is not a role single sign-on gives "
                    "(admin or auditor)."
                }
            )
        mapping[group] = role
    return mapping


def _check_domains(org: Organization, domains: tuple[str, ...], owner) -> None:
    from allauth.account.models import EmailAddress

    proven = {
        domain_of(e)
        for e in EmailAddress.objects.filter(user=owner, verified=True).values_list("email", flat=True)
    }
    for domain in domains:
        if domain in PUBLIC_MAIL_DOMAINS:
            raise ValidationError(
                {"domains": f"{domain} is a public mail provider: anyone can have an address there."}
            )
        if domain not in proven:
            raise ValidationError(
                {
                    "domains": f"Add and verify an email address at {domain} in your account first: "
                    "it shows the domain is your organization's."
                }
            )
    taken = (
        SsoDomain.objects.filter(domain__in=domains).exclude(config__org=org).values_list("domain", flat=True)
    )
    if taken:
        raise ValidationError(
            {"domains": f"{taken[0]} is already covered by another organization's sign-on."}
        )


def discover(issuer: str) -> dict:
    """The provider's discovery document, checked: reachable under the egress rule, JSON, and
    naming this very issuer (a document for another issuer is a mix-up)."""
    issuer = issuer.strip().rstrip("/")
    try:
        egress.check(issuer)
    except egress.Refused as refused:
        raise ValidationError({"issuer": str(refused)}) from None
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = egress_session().get(url, timeout=DISCOVERY_TIMEOUT, allow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ValidationError({"issuer": f"No OpenID provider answers at {url}: {reason(error)}."}) from None
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip("/") != issuer:
        raise ValidationError(
            {"issuer": f"{url} describes the issuer {document.get('issuer')!r}, not {issuer!r}."}
            if isinstance(document, dict)
            else {"issuer": f"{url} is not a discovery document."}
        )
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(k)]
    if missing:
        raise ValidationError({"issuer": f"The provider's discovery document lacks {', '.join(missing)}."})
    return document


def reason(error: Exception) -> str:
    if isinstance(error, EgressRefused):
        return str(error).rstrip(".")
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code}"
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    if isinstance(error, ValueError):
        return "the answer is not JSON"
    if isinstance(error, requests.ConnectionError):
        return "could not connect"
    return "an unexpected answer"


class EgressRefused(requests.ConnectionError):
    """A request to an IdP's endpoint that the egress rule refuses (a requests error, so
    allauth's flow shows it as a failed sign-in rather than crashing)."""


class _EgressAdapter(requests.adapters.HTTPAdapter):
    """Every request to an IdP (discovery, keys, token, userinfo) passes the egress rule:
    a discovery document cannot point the dashboard at its own network."""

    def send(self, request, **kwargs):
        try:
            egress.check(request.url)
        except egress.Refused as refused:
            raise EgressRefused(str(refused), request=request) from None
        return super().send(request, **kwargs)


def egress_session() -> requests.Session:
    session = requests.Session()
    adapter = _EgressAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _snapshot(config: SsoConfig) -> dict:
    return {
        "issuer": config.issuer,
        "client_id": config.client_id,
        "domains": sorted(config.domains.values_list("domain", flat=True)) if config.pk else [],
        "default_role": config.default_role,
        "group_roles": config.group_roles,
        "groups_claim": config.groups_claim,
        "password_sign_in": config.password_sign_in,
        "enabled": config.enabled,
    }


def configure(*, org: Organization, values: Settings, actor_user, request=None) -> SsoConfig:
    """Create or change the org's SSO; all of it or nothing, audited (never the secret)."""
    existing = SsoConfig.objects.filter(org=org).first()
    issuer = values.issuer.strip().rstrip("/")
    client_id = values.client_id.strip()
    if not client_id or len(client_id) > 200:
        raise ValidationError({"client_id": "Enter the client id the provider gave this dashboard."})
    if not values.client_secret and existing is None:
        raise ValidationError({"client_secret": "Enter the client secret the provider gave this dashboard."})
    if values.default_role not in [r.value for r in SSO_ROLES]:
        raise ValidationError({"default_role": "New members join as admin or auditor."})
    if not re.fullmatch(r"[A-Za-z0-9_.:/-]{1,100}", values.groups_claim or ""):
        raise ValidationError({"groups_claim": "Name the claim with letters, digits and _ . : / - only."})
    _check_domains(org, values.domains, actor_user)
    banning = not values.password_sign_in and (existing is None or existing.password_sign_in)
    if banning and not (existing and request is not None and signed_in_through(request, existing)):
        raise ValidationError(
            {
                "password_sign_in": "Sign in through single sign-on first (sign out, then 'Sign in with "
                "single sign-on'): forbidding passwords before it works for you would lock you out."
            }
        )
    discover(issuer)
    with transaction.atomic():
        config = SsoConfig.objects.select_for_update().filter(org=org).first() or SsoConfig(org=org)
        before = _snapshot(config) if config.pk else {}
        unbound = 0
        if config.pk and (config.issuer != issuer or config.client_id != client_id):
            unbound = _unbind(config)  # another IdP: the old one's subjects mean nothing to it
        config.issuer, config.client_id = issuer, client_id
        if values.client_secret:
            config.client_secret_sealed = seal(values.client_secret, SEAL_PURPOSE)
        config.default_role = values.default_role
        config.group_roles = values.group_roles or {}
        config.groups_claim = values.groups_claim
        config.password_sign_in = values.password_sign_in
        config.enabled = values.enabled
        config.save()
        config.domains.exclude(domain__in=values.domains).delete()
        try:
            with transaction.atomic():
                for domain in values.domains:
                    SsoDomain.objects.get_or_create(config=config, domain=domain)
        except IntegrityError:
            raise ValidationError(
                {"domains": "One of these domains was just claimed by another organization."}
            ) from None
        after = _snapshot(config)
        if values.client_secret:
            after["client_secret"] = "replaced"
        if unbound:
            after["unbound_accounts"] = unbound
        old, new = changed_fields(before, after) if before else ({}, after)
        if old or new:
            record_event(
                org,
                Action.ORG_SSO_CONFIGURED,
                actor=Actor.member(actor_user),
                subject=Subject(SubjectType.ORGANIZATION, org.id, org.name),
                request=request,
                before=old,
                after=new,
            )
    return config


def _unbind(config: SsoConfig) -> int:
    from allauth.socialaccount.models import SocialAccount

    return SocialAccount.objects.filter(provider=config.provider_id).delete()[0]


@transaction.atomic
def remove(*, org: Organization, actor_user, request=None) -> None:
    """Turn SSO off: the configuration, its domains and its subjects' bindings go."""
    config = SsoConfig.objects.select_for_update().filter(org=org).first()
    if config is None:
        return
    before = _snapshot(config)
    _unbind(config)
    config.delete()
    record_event(
        org,
        Action.ORG_SSO_REMOVED,
        actor=Actor.member(actor_user),
        subject=Subject(SubjectType.ORGANIZATION, org.id, org.name),
        request=request,
        before=before,
    )


# --- admitting ---------------------------------------------------------------------------


class Refused(Exception):
    """An SSO sign-in this dashboard does not accept; the message says why, to the person."""


@dataclass(frozen=True)
class Identity:
    """What the IdP asserted, as the dashboard reads it."""

    subject: str
    email: str
    email_verified: bool
    groups: tuple[str, ...]


def identity_from_claims(config: SsoConfig, subject: str, claims: dict) -> Identity:
    groups = claims.get(config.groups_claim) or ()
    if isinstance(groups, str):
        groups = (groups,)
    verified = claims.get("email_verified")
    return Identity(
        subject=subject,
        email=str(claims.get("email") or "").strip(),
        email_verified=verified is True or str(verified).lower() == "true",
        groups=tuple(str(g) for g in groups if isinstance(g, str | int)),
    )


def check_new_subject(config: SsoConfig, identity: Identity) -> None:
    """A subject not yet bound to an account: what it must show to be bound."""
    if not identity.email:
        raise Refused(
            f"{config.org.name}'s identity provider did not tell this dashboard your email address."
        )
    if not identity.email_verified:
        raise Refused(f"{config.org.name}'s identity provider has not verified {identity.email}.")
    covered = set(config.domains.values_list("domain", flat=True))
    if domain_of(identity.email) not in covered:
        raise Refused(
            f"{identity.email} is not in the domains {config.org.name} signs in "
            "through its identity provider."
        )


def check_existing_account(config: SsoConfig, user, identity: Identity) -> None:
    """An account that has this email but no binding to this IdP: linked only if it is
    already a member of the org (an IdP speaks for its org's members, nobody else)."""
    if not Membership.objects.filter(org=config.org, user=user).exists():
        raise Refused(
            f"An account with {identity.email} exists and is not a member of {config.org.name}. "
            f"Ask an owner of {config.org.name} to invite it, accept with your password, "
            "then use single sign-on."
        )


def role_for(config: SsoConfig, identity: Identity) -> str:
    matched = [config.group_roles[g] for g in identity.groups if g in config.group_roles]
    return max(matched, key=lambda r: ROLE_RANK[r]) if matched else config.default_role


@transaction.atomic
def admit(*, config: SsoConfig, user, identity: Identity, request=None) -> Membership:
    """Just-in-time membership of an SSO sign-in (and its role from the groups claim)."""
    actor = Actor.system(f"single sign-on ({config.org.name})")
    subject_role = role_for(config, identity)
    membership = Membership.objects.select_for_update().filter(org=config.org, user=user).first()
    if membership is None:
        membership = Membership.objects.create(org=config.org, user=user, role=subject_role)
        record_event(
            config.org,
            Action.MEMBER_ADDED,
            actor=actor,
            subject=Subject(SubjectType.MEMBERSHIP, membership.pk, user.email),
            request=request,
            after={"email": user.email, "role": subject_role},
            details={"via": "single sign-on", "subject": identity.subject},
        )
    elif config.group_roles and membership.role != Role.OWNER and membership.role != subject_role:
        before = membership.role
        membership.role = subject_role
        membership.save(update_fields=["role"])
        record_event(
            config.org,
            Action.MEMBER_ROLE_CHANGED,
            actor=actor,
            subject=Subject(SubjectType.MEMBERSHIP, membership.pk, user.email),
            request=request,
            before={"role": before},
            after={"role": subject_role},
            details={"via": "groups claim", "groups": list(identity.groups)[:20]},
        )
    return membership


# --- the password ban --------------------------------------------------------------------


def signed_in_through(request, config: SsoConfig) -> bool:
    """Whether this session's sign-in (or a later re-authentication) went through the IdP."""
    from allauth.account.internal.flows.login import get_authentication_records

    return any(
        r.get("method") == "socialaccount" and r.get("provider") == config.provider_id
        for r in get_authentication_records(request, request.user)
    )


def last_idp_sign_in(request) -> dict | None:
    """This session's latest sign-in through an org's IdP (allauth's record), if any."""
    from allauth.account.internal.flows.login import get_authentication_records

    records = [
        r for r in get_authentication_records(request, request.user) if r.get("method") == "socialaccount"
    ]
    return records[-1] if records else None


def recently_signed_in_through_idp(request) -> bool:
    """Sudo mode for a session that signs in through an IdP (an account without a password
    has no other way): the IdP authenticated the person within the re-authentication
    timeout, by the ``auth_time`` it signed, not merely the dashboard's own record."""
    from allauth.socialaccount.models import SocialAccount

    record, timeout = last_idp_sign_in(request), settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    if record is None or time.time() - record.get("at", 0) > timeout:
        return False
    account = SocialAccount.objects.filter(
        user=request.user, provider=record.get("provider"), uid=record.get("uid")
    ).first()
    auth_time = ((account.extra_data or {}).get("id_token") or {}).get("auth_time") if account else None
    return isinstance(auth_time, int | float) and time.time() - auth_time <= timeout


def needs_sso(request, org: Organization) -> SsoConfig | None:
    """The org's SSO when its pages need a session signed in through it and this one was not."""
    try:
        config = org.sso
    except SsoConfig.DoesNotExist:
        return None
    if config.password_sign_in or not config.enabled:
        return None
    return None if signed_in_through(request, config) else config
