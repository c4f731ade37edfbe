"""``manage.py bootstrap_demo``: the demo owner and org of a development install.

`make run` calls it on every start. The first run creates the account (with a random
password kept in var/demo-login.json, readable by this user only) and its org; every run
prints where to sign in.
"""

from __future__ import annotations

import json
import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audit.services import Actor
from orgs.selectors import memberships_of
from orgs.services import org_create

DEMO_EMAIL = "demo@cloudsignal.example"


class Command(BaseCommand):
    help = "Create the demo owner and org on first run; print the URL and the login."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=f"http://localhost:{os.environ.get('PORT', '8000')}/")

    def handle(self, *args, url: str, **options):
        if settings.PRODUCTION:
            raise CommandError("bootstrap_demo is for development installs only.")
        path = settings.VAR_DIR / "demo-login.json"
        User = get_user_model()
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None or not path.exists():
                password = secrets.token_urlsafe(12)
                if user is None:
                    user = User.objects.create_user(email=DEMO_EMAIL, password=password)
                else:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"email": DEMO_EMAIL, "password": password}))
                path.chmod(0o600)
            if not memberships_of(user).exists():
                org_create(name="Demo", owner=user, actor=Actor.system("make run"))
        login = json.loads(path.read_text())
        org = memberships_of(user).first().org
        self.stdout.write(
            "\n"
            f"  CloudSignal Dashboard: {url}\n"
            f"  Sign in as {login['email']} with password {login['password']}\n"
            f"  Demo organization: {org.name} ({org.id})\n"
            f"  Real data in a few minutes: once it is up, in another terminal run\n"
            f"    .venv/bin/python manage.py simulate_fleet {org.id} --devices 50 --minutes 5\n"
        )
