"""How many credential checks per second: our secret check versus Django's password hasher.

Ours is what an MQTT CONNECT costs the dashboard: one indexed lookup of the user (or the
token by its id) in PostgreSQL, an HMAC-SHA256 digest and a constant-time compare. Django's
default hasher (PBKDF2-SHA256, and the Argon2 we use for dashboard logins) is what a slow
password hash would cost per CONNECT instead. Prints the ratio last.

Run: DATABASE_URL=postgres://... .venv/bin/python bench/secret_verify.py [--seconds 3]
(`make test` starts the PostgreSQL it uses). Creates its rows in a transaction it rolls back.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudsignal_dashboard.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from audit.services import Actor  # noqa: E402
from core import credentials  # noqa: E402
from orgs.models import Organization  # noqa: E402
from users import connect  # noqa: E402
from users.models import MqttUser  # noqa: E402
from users.services import user_create, verify_user_secret  # noqa: E402
from users.tokens import token_mint  # noqa: E402


def rate(check, seconds: float) -> float:
    """Checks per second of ``check`` over about ``seconds``."""
    check()  # warm up
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(20):
            assert check()
        done += 20
    return done / elapsed


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (make test starts one on 127.0.0.1).")
    call_command("migrate", verbosity=0)

    results: dict[str, float] = {}
    try:
        with transaction.atomic():
            org = Organization.objects.create(name="bench")
            user, secret = user_create(org=org, name="bench-device", actor=Actor.system())
            _, token = token_mint(org=org, user=user, actor=Actor.system())

            def our_secret_check() -> bool:
                found = MqttUser.objects.get(org_id=org.id, name="bench-device")
                return verify_user_secret(found, secret)

            def our_token_check() -> bool:  # as broker.authn: the CONNECT query, then the digest
                parsed = credentials.parse_prefixed(token, credentials.TOKEN_PREFIX)
                found = connect.load(org.id, user.name, parsed.id).token
                return found is not None and found.matches(parsed) and found.status == "active"

            results["ours: MQTT secret (lookup + HMAC + compare)"] = rate(our_secret_check, args.seconds)
            results["ours: token (the CONNECT query + HMAC + compare)"] = rate(our_token_check, args.seconds)
            raise Rollback
    except Rollback:
        pass

    for name, hasher in [
        ("django default: PBKDF2-SHA256", PBKDF2PasswordHasher()),
        ("django: Argon2 (dashboard logins)", Argon2PasswordHasher()),
    ]:
        encoded = hasher.encode("correct-horse-battery-staple", hasher.salt())
        results[name] = rate(
            lambda h=hasher, e=encoded: h.verify("correct-horse-battery-staple", e), args.seconds
        )

    for name, value in results.items():
        print(f"{name:<48} {value:>12,.1f} verifications/s")
    ratio = results["ours: MQTT secret (lookup + HMAC + compare)"] / results["django default: PBKDF2-SHA256"]
    print(f"ratio ours / django default hasher: {ratio:,.0f}x")


if __name__ == "__main__":
    main()
