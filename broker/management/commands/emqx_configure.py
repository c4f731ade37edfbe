"""``manage.py emqx_configure --url URL --key KEY --secret SECRET``: apply the dashboard's
integration to a running EMQX 5.8 cluster through its REST API, idempotently
(broker.emqx.configure). ``--dry-run`` prints the requests and changes nothing."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from broker.emqx.api import Emqx, EmqxError
from broker.emqx.configure import Plan


class Command(BaseCommand):
    help = "Configure an EMQX 5.8 cluster to authenticate, authorize and report through this dashboard."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default=settings.EMQX_API_URL, help="EMQX's REST API, e.g. https://emqx:18083"
        )
        parser.add_argument("--key", default=settings.EMQX_API_KEY, help="an EMQX API key (administrator)")
        parser.add_argument("--secret", default=settings.EMQX_API_SECRET)
        parser.add_argument(
            "--dashboard-url",
            default=getattr(settings, "DASHBOARD_PUBLIC_URL", "") or "",
            help="where EMQX reaches this dashboard, e.g. https://dashboard.example.com",
        )
        parser.add_argument("--dry-run", action="store_true", help="print the requests, change nothing")

    def handle(self, *args, url, key, secret, dashboard_url, dry_run, **options):
        missing = [name for name, value in (("--url", url), ("--dashboard-url", dashboard_url)) if not value]
        if not dry_run:
            missing += [name for name, value in (("--key", key), ("--secret", secret)) if not value]
        if missing:
            raise CommandError(f"Give {', '.join(missing)} (or EMQX_API_URL, EMQX_API_KEY, EMQX_API_SECRET).")
        if not dashboard_url.startswith(("https://", "http://")):
            raise CommandError("--dashboard-url must be an http(s) URL EMQX can reach.")
        plan = Plan(
            Emqx(url, key, secret),
            dashboard_url,
            settings.BROKER_HOOK_SECRET,
            dry_run=dry_run,
            log=self.stdout.write,
        )
        try:
            outcomes = plan.apply()
        except EmqxError as error:
            raise CommandError(str(error)) from None
        for label, outcome in outcomes:
            self.stdout.write(f"{label}: {outcome}")
