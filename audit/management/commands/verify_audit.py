"""``manage.py verify_audit [ORG_ID]``: check the audit hash chain of one org or of all.

Prints one line per org ("verified" or the first broken link) and exits 1 if any chain
is broken, so a cron job or a monitoring check can act on it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify
from audit.models import organizations


class Command(BaseCommand):
    help = "Verify the audit log's hash chain of ORG_ID (or of every org); exit 1 if one is broken."

    def add_arguments(self, parser):
        parser.add_argument("org_id", nargs="?")

    def handle(self, *args, org_id: str | None, **options):
        orgs = organizations().order_by("pk")
        if org_id is not None:
            orgs = orgs.filter(pk=org_id)
            if not orgs.exists():
                raise CommandError(f"No organization {org_id!r}.")
        broken = 0
        for org in orgs.iterator():
            verdict = verify(org.pk, remember=True)
            broken += not verdict.ok
            self.stdout.write(str(verdict), self.style.SUCCESS if verdict.ok else self.style.ERROR)
        if broken:
            raise CommandError(f"{broken} broken chain(s).", returncode=1)
