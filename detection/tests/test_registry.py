"""Detectors register themselves: a new module is on the settings page, in the Alerts filter
and in the scan, with its settings validated and audited, and no migration."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from detection import anomalies, registry
from detection.models import Alert, ScanSettings, Severity
from detection.tests.tuning import default_form


@pytest.fixture
def extra_detector(monkeypatch):
    """A detector registered as a new module would be, for one test."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry.detectors()  # the real ones first

    @registry.register(
        "test_canary",
        "Canary detector",
        position=99,
        settings=(registry.Setting("canary_threshold", "Canary: threshold", 3, 1, 9),),
    )
    def detect(org, cfg, now):
        """Fires once per scan with its threshold in the summary."""
        return [
            registry.Finding("test_canary", "org", Severity.LOW, f"threshold {cfg.canary_threshold}", now)
        ]

    return detect


def test_every_detector_declares_a_label_a_description_and_valid_defaults():
    specs = registry.detectors()
    assert [s.key for s in specs][:2] == ["brute_force", "shared_credentials"] and len(specs) == 8
    for spec in specs:
        assert spec.label and spec.description, spec.key
        for setting in spec.settings:
            assert setting.accepts(setting.default), setting.name


def test_a_registered_detector_is_on_the_pages_in_the_scan_and_tuned(org_a, client_for, extra_detector):
    client = client_for(org_a.admin)
    settings_url = reverse("detection:settings", kwargs={"org_id": org_a.org.id})
    page = client.get(settings_url).content.decode()
    assert 'data-testid="detector-test_canary"' in page and "Fires once per scan" in page
    assert 'name="canary_threshold"' in page
    alerts_page = client.get(reverse("alerts:list", kwargs={"org_id": org_a.org.id})).content.decode()
    assert '<option value="test_canary">Canary detector</option>' in alerts_page

    bad = client.post(settings_url, {**default_form(), "canary_threshold": 10})
    assert bad.status_code == 422 and "Use at most 9." in bad.content.decode()
    assert "canary_threshold" not in ScanSettings.objects.get(org=org_a.org).tuning  # nothing saved
    assert client.post(settings_url, {**default_form(), "canary_threshold": 7}).status_code == 302
    assert ScanSettings.objects.get(org=org_a.org).tuning == {"canary_threshold": 7}
    event = AuditEvent.objects.get(org=org_a.org, action="detection.updated")
    assert event.details["before"] == {"canary_threshold": 3} and event.details["after"] == {
        "canary_threshold": 7
    }

    anomalies.scan_org(org_a.org, now=timezone.now())
    alert = Alert.objects.get(org=org_a.org, detector="test_canary")
    assert alert.summary == "threshold 7" and str(alert) == "Canary detector: org"


def test_a_stored_value_that_is_not_valid_reads_as_the_default(org_a):
    """Someone with database access, or a setting whose bounds changed, cannot make a
    detector run with a threshold the page would refuse."""
    cfg, _ = ScanSettings.objects.get_or_create(org=org_a.org)
    cfg.tuning = {
        "brute_force_failures": 0,
        "dormant_days": "7",
        "shared_credentials": 0,
        "flapping_minutes": 9,
    }
    cfg.save()
    values = ScanSettings.objects.get(org=org_a.org).values
    assert values.brute_force_failures == 10 and values.dormant_days == 90
    assert values.shared_credentials is True and values.flapping_minutes == 9
    with pytest.raises(AttributeError, match="no detector has a setting"):
        values.no_such_setting  # noqa: B018


def test_only_values_that_differ_from_the_default_are_stored(org_a, client_for):
    url = reverse("detection:settings", kwargs={"org_id": org_a.org.id})
    client = client_for(org_a.admin)
    assert client.post(url, {**default_form(), "dormant_days": 30}).status_code == 302
    assert ScanSettings.objects.get(org=org_a.org).tuning == {"dormant_days": 30}
    form = {**default_form(), "dormant_days": 90}
    del form["shared_credentials"]  # unticked
    assert client.post(url, form).status_code == 302
    assert ScanSettings.objects.get(org=org_a.org).tuning == {"shared_credentials": False}


def test_an_alert_of_a_detector_since_removed_keeps_its_key_as_label(org_a):
    alert = Alert(org=org_a.org, detector="retired_detector", subject="x")
    assert alert.detector_label == "retired_detector"


def test_the_migration_moves_each_tuned_column_into_tuning_and_back():
    import importlib
    from types import SimpleNamespace

    migration = importlib.import_module("detection.migrations.0002_tuning_by_detector")
    assert migration.COLUMNS == {name: s.default for name, s in registry.settings().items()}
    saved = []
    row = SimpleNamespace(
        **{**migration.COLUMNS, "brute_force_failures": 20, "shared_credentials": False},
        tuning={},
        save=lambda update_fields: saved.append(sorted(update_fields)),
    )
    apps = SimpleNamespace(get_model=lambda *_: SimpleNamespace(objects=SimpleNamespace(all=lambda: [row])))
    migration.columns_to_tuning(apps, None)
    assert row.tuning == {"brute_force_failures": 20, "shared_credentials": False}
    row.brute_force_failures, row.shared_credentials, row.dormant_days = 0, True, 1
    migration.tuning_to_columns(apps, None)
    assert (row.brute_force_failures, row.shared_credentials, row.dormant_days) == (20, False, 90)
    assert saved == [["tuning"], sorted(migration.COLUMNS)]
