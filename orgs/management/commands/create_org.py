"""``manage.py create_org NAME --owner EMAIL [--password P] [--json]``: for operators."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from audit.services import Actor
from orgs.services import org_create


class Command(BaseCommand):
    help = "Create an organization owned by EMAIL (creating that account if missing); prints the org id."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Organization name")
        parser.add_argument("--owner", required=True, help="Email of the owner's dashboard account")
        parser.add_argument(
            "--password",
            help="Password for the owner account when it is created (without it, the new "
            "account cannot sign in until an operator sets one)",
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help='Print {"org_id": ..., "owner": ...}'
        )

    def handle(self, *args, name: str, owner: str, password: str | None, as_json: bool, **options):
        email = owner.strip().lower()
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"--owner {owner!r} is not an email address.") from error
        User = get_user_model()
        try:
            with transaction.atomic():
                user = User.objects.filter(email__iexact=email).first()
                created = user is None
                if created:
                    user = User(email=email)
                    if password:
                        password_validation.validate_password(password, user)
                    user.set_password(password)  # None leaves it unusable
                    user.save()
                elif password:
                    raise CommandError(f"{email} already exists; --password is only for a new account.")
                org = org_create(name=name, owner=user, actor=Actor.system("create_org command"))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        if as_json:
            self.stdout.write(json.dumps({"org_id": org.id, "owner": user.email}))
        else:
            self.stdout.write(org.id)
            if created and not password:
                self.stderr.write(
                    f"Created {email} without a password: set one with `manage.py changepassword {email}`."
                )
