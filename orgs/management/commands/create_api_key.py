"""``manage.py create_api_key ORG_ID NAME [--scope ...] [--json]``: for operators and automation.

Prints the key once; only its digest is stored.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.services import Actor
from core.api import Scope
from orgs.api_keys import api_key_create
from orgs.models import Organization


class Command(BaseCommand):
    help = "Create an API key for ORG_ID and print it once (default scope: tokens:mint)."

    def add_arguments(self, parser):
        parser.add_argument("org_id")
        parser.add_argument("name")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=Scope.values,
            help="A scope to grant; repeat for several (default: tokens:mint)",
        )
        parser.add_argument("--json", action="store_true", dest="as_json", help='Print {"key": ...}')

    def handle(self, *args, org_id: str, name: str, scopes: list[str] | None, as_json: bool, **options):
        org = Organization.objects.filter(pk=org_id).first()
        if org is None:
            raise CommandError(f"No organization {org_id!r}.")
        try:
            key, value = api_key_create(
                org=org,
                name=name,
                scopes=scopes or [Scope.TOKENS_MINT],
                actor=Actor.system("create_api_key command"),
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(json.dumps({"key": value}) if as_json else value)
