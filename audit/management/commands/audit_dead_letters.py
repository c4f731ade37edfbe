"""``manage.py audit_dead_letters [--retry]``: the audit events the database refused.

The drain sets such an event aside (one bad value must not hold back every org's audit) and
logs an error; this lists them with the reason and, with --retry, writes them again one by
one (after a fix, say). Exit status 1 while any is left.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from audit import writer


class Command(BaseCommand):
    help = "List the audit events the database refused, or --retry them."

    def add_arguments(self, parser):
        parser.add_argument("--retry", action="store_true", help="write them again, one by one")

    def handle(self, *args, retry: bool, **options):
        if not writer.queued():
            raise CommandError("The audit queue needs REDIS_URL; without it events are written at once.")
        if retry:
            written, refused = writer.retry_dead_letters()
            self.stdout.write(f"{written} written, {refused} still refused")
        left = writer.dead_letters()
        for entry in left:
            _, item_id, body = entry["item"].split(" ", 2)
            event = json.loads(body)
            self.stdout.write(f"#{item_id} {event.get('org_id')} {event.get('action')}: {entry['reason']}")
        if not left:
            self.stdout.write("No audit event is set aside.")
        elif not retry:
            self.stdout.write(f"{len(left)} set aside; --retry writes them again.")
        if left:
            raise SystemExit(1)
