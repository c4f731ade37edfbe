"""Each detector on crafted sessions and events, both ways; alert dedup and org isolation."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor, Subject, record_event
from detection import anomalies
from detection.models import Alert, ScanSettings
from detection.tests.tuning import tune
from sessions.models import MqttSession
from users.models import MqttUser

_ms = count(1_700_000_000_000)


@pytest.fixture
def now():
    return timezone.now()


def _failure(world, username: str, ip: str, at, action="auth.failure", actor_type="mqtt_user", actor_id=""):
    record_event(
        world.org,
        action,
        actor=Actor(actor_type, actor_id, username),
        subject=Subject("mqtt_user", "", username),
        peer_ip=ip,
        outcome="failure" if action != "auth.success" else "success",
        details={"reason": "bad_secret"},
        at=at,
    )


def _session(world, user, *, client="c-1", ip="198.51.100.1", at, transport="mqtts", token="", open_=True):
    return MqttSession.objects.create(
        org=world.org,
        user=user,
        username=user.username,
        token_id=token,
        client_id=client,
        node="n1",
        peer_ip=ip,
        transport=transport,
        connected_at_ms=next(_ms),
        connected_at=at,
        disconnected_at=None if open_ else at + timedelta(seconds=1),
    )


def _alerts(world, detector):
    return list(Alert.objects.filter(org=world.org, detector=detector))


def test_brute_force_by_username_and_by_address(org_a, now):
    user = org_a.mqtt_user
    for i in range(10):
        _failure(org_a, user.username, f"203.0.113.{i}", now - timedelta(seconds=30 + i))  # 10 addresses
    for i in range(10):
        _failure(org_a, f"guess{i}@{org_a.org.id}", "192.0.2.9", now - timedelta(seconds=i))  # one address
    anomalies.scan_org(org_a.org, now=now)
    subjects = {a.subject for a in _alerts(org_a, "brute_force")}
    assert subjects == {f"user {user.username}", "address 192.0.2.9"}
    alert = Alert.objects.get(subject=f"user {user.username}")
    assert alert.severity == "high" and len(alert.evidence) == 10 and alert.evidence[0]["kind"] == "event"


def test_brute_force_below_threshold_or_outside_window_is_quiet(org_a, now):
    user = org_a.mqtt_user
    for i in range(9):
        _failure(org_a, user.username, "203.0.113.1", now - timedelta(seconds=i))
    for i in range(5):
        _failure(org_a, user.username, "203.0.113.1", now - timedelta(minutes=10, seconds=i))
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "brute_force")


def test_a_tuned_threshold_applies(org_a, now):
    tune(org_a.org, brute_force_failures=3)
    for i in range(3):
        _failure(org_a, "x@" + org_a.org.id, "203.0.113.1", now - timedelta(seconds=i))
    anomalies.scan_org(org_a.org, now=now)
    assert _alerts(org_a, "brute_force")


def test_repeats_raise_the_count_of_one_alert_and_a_resolved_one_reopens_anew(org_a, now):
    for i in range(10):
        _failure(org_a, "x@" + org_a.org.id, "203.0.113.1", now - timedelta(seconds=i + 5))
    anomalies.scan_org(org_a.org, now=now)
    anomalies.scan_org(org_a.org, now=now)  # nothing new: no repeat
    alert = Alert.objects.get(org=org_a.org, subject="address 203.0.113.1")
    assert alert.count == 1
    _failure(org_a, "x@" + org_a.org.id, "203.0.113.1", now)
    anomalies.scan_org(org_a.org, now=now + timedelta(seconds=1))
    alert.refresh_from_db()
    assert (
        alert.count == 2 and Alert.objects.filter(org=org_a.org, subject="address 203.0.113.1").count() == 1
    )
    alert.status = "resolved"
    alert.save()
    _failure(org_a, "x@" + org_a.org.id, "203.0.113.1", now + timedelta(seconds=2))
    anomalies.scan_org(org_a.org, now=now + timedelta(seconds=3))
    assert Alert.objects.filter(org=org_a.org, subject="address 203.0.113.1").count() == 2


def test_one_orgs_events_never_raise_another_orgs_alert(org_a, org_b, now):
    for i in range(10):
        _failure(org_a, "x@" + org_a.org.id, "203.0.113.1", now - timedelta(seconds=i))
    for i in range(5):
        _failure(org_b, "x@" + org_b.org.id, "203.0.113.1", now - timedelta(seconds=i))
    anomalies.scan_all(now=now)
    assert _alerts(org_a, "brute_force") and not Alert.objects.filter(org=org_b.org).exists()


def test_brute_force_then_success_disables_the_user_only_when_turned_on(org_a, now):
    user = org_a.mqtt_user
    for i in range(10):
        _failure(org_a, user.username, "203.0.113.1", now - timedelta(seconds=20 + i))
    _failure(
        org_a,
        user.username,
        "203.0.113.1",
        now - timedelta(seconds=1),
        action="auth.success",
        actor_id=user.pk,
    )
    anomalies.scan_org(org_a.org, now=now)
    assert MqttUser.objects.get(pk=user.pk).enabled  # off by default
    Alert.objects.filter(org=org_a.org).update(status="resolved")
    tune(org_a.org, brute_force_disable_user=True)
    _failure(org_a, user.username, "203.0.113.1", now + timedelta(seconds=1))
    anomalies.scan_org(org_a.org, now=now + timedelta(seconds=2))
    assert not MqttUser.objects.get(pk=user.pk).enabled
    alert = Alert.objects.get(org=org_a.org, subject=f"user {user.username}", status="open")
    assert "Disabled" in alert.response and "then a success from an address that failed" in alert.summary
    assert AuditEvent.objects.filter(
        org=org_a.org, action="mqtt_user.disabled", actor_label="anomaly response"
    ).exists()


def test_failures_from_anywhere_do_not_get_the_real_device_disabled(org_a, now):
    user = org_a.mqtt_user
    tune(org_a.org, brute_force_disable_user=True)
    for i in range(10):
        _failure(org_a, user.username, f"198.51.100.{i}", now - timedelta(seconds=30 + i))
    # The device itself connects from its own address, which never failed.
    _failure(
        org_a,
        user.username,
        "203.0.113.77",
        now - timedelta(seconds=1),
        action="auth.success",
        actor_id=user.pk,
    )
    anomalies.scan_org(org_a.org, now=now)
    assert MqttUser.objects.get(pk=user.pk).enabled
    alert = Alert.objects.get(org=org_a.org, subject=f"user {user.username}")
    assert alert.response == "" and "other addresses" in alert.summary


def test_shared_credentials(org_a, now):
    user = org_a.mqtt_user
    _session(org_a, user, client="a", ip="198.51.100.1", at=now)
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "shared_credentials")  # one connection
    _session(org_a, user, client="b", ip="198.51.100.1", at=now, token="tok_x")  # a token: by design
    _session(org_a, user, client="c", ip="198.51.100.9", at=now, open_=False)  # closed
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "shared_credentials")
    _session(org_a, user, client="d", ip="198.51.100.2", at=now)
    anomalies.scan_org(org_a.org, now=now + timedelta(seconds=1))
    (alert,) = _alerts(org_a, "shared_credentials")
    assert alert.subject == f"user {user.username}" and {e["client_id"] for e in alert.evidence} == {"a", "d"}


def test_new_address_compares_networks_over_the_history(org_a, now):
    user = org_a.mqtt_user
    _session(org_a, user, ip="198.51.100.7", at=now - timedelta(days=3), open_=False)
    _session(org_a, user, ip="198.51.100.8", at=now - timedelta(seconds=30))  # same /24: not new
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "new_address")
    _session(org_a, user, ip="203.0.113.50", at=now - timedelta(seconds=10))
    anomalies.scan_org(org_a.org, now=now)
    (alert,) = _alerts(org_a, "new_address")
    assert alert.subject == f"user {user.username} from 203.0.113.0/24"


def test_new_address_ignores_a_users_first_connections_and_old_history(org_a, now):
    user = org_a.mqtt_user
    _session(org_a, user, ip="203.0.113.50", at=now - timedelta(seconds=10))  # no history at all
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "new_address")
    other = org_a.mqtt_user_with_acl  # same user; use a second one with only ancient history
    from users.services import user_create

    second = user_create(org=org_a.org, name="second", actor=Actor.system())[0]
    _session(org_a, second, ip="203.0.113.50", at=now - timedelta(days=40), open_=False)
    _session(org_a, second, ip="203.0.113.51", at=now - timedelta(seconds=5))
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "new_address") and other  # 40 days ago is outside the 30-day history


def test_flapping(org_a, now):
    user = org_a.mqtt_user
    for i in range(9):
        _session(org_a, user, client="flappy", at=now - timedelta(seconds=10 * i), open_=False)
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "flapping")
    _session(org_a, user, client="flappy", at=now)
    anomalies.scan_org(org_a.org, now=now)
    (alert,) = _alerts(org_a, "flapping")
    assert alert.subject == f"client flappy of {user.username}"


def test_acl_denial_spike(org_a, now):
    tune(org_a.org, acl_denials=5)
    for i in range(4):
        _failure(org_a, "dev@" + org_a.org.id, None, now - timedelta(seconds=i), action="mqtt.acl_denied")
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "acl_denials")
    _failure(org_a, "dev@" + org_a.org.id, None, now, action="mqtt.acl_denied")
    anomalies.scan_org(org_a.org, now=now + timedelta(seconds=1))
    assert _alerts(org_a, "acl_denials")[0].subject == f"user dev@{org_a.org.id}"


def test_token_minting_spike_counts_api_keys_only(org_a, now):
    tune(org_a.org, mint_tokens=3)
    for i in range(3):
        _failure(
            org_a,
            "admin@example.com",
            None,
            now - timedelta(seconds=i),
            action="token.minted",
            actor_type="member",
        )
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "mint_spike")
    for i in range(3):
        _failure(
            org_a,
            "backend key",
            None,
            now - timedelta(seconds=i),
            action="token.minted",
            actor_type="api_key",
        )
    anomalies.scan_org(org_a.org, now=now)
    assert _alerts(org_a, "mint_spike")[0].subject == "API key backend key"


def test_dormant_credentials(org_a, now):
    user = org_a.mqtt_user
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "dormant")  # a new secret
    MqttUser.objects.filter(pk=user.pk).update(
        secret_created_at=now - timedelta(days=200), last_seen_at=now - timedelta(days=1)
    )
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "dormant")  # old but in use
    MqttUser.objects.filter(pk=user.pk).update(last_seen_at=now - timedelta(days=120))
    anomalies.scan_org(org_a.org, now=now)
    (alert,) = _alerts(org_a, "dormant")
    assert alert.severity == "low" and alert.evidence[0]["kind"] == "user"


def test_permanent_secret_over_websocket(org_a, now):
    user = org_a.mqtt_user
    _session(org_a, user, transport="wss", token="tok_1", at=now)  # a token: as it should be
    _session(org_a, user, transport="mqtts", at=now)
    anomalies.scan_org(org_a.org, now=now)
    assert not _alerts(org_a, "permanent_over_wss")
    _session(org_a, user, client="browser", transport="wss", at=now)
    anomalies.scan_org(org_a.org, now=now)
    assert _alerts(org_a, "permanent_over_wss")[0].evidence[0]["client_id"] == "browser"


def test_a_scan_records_when_it_ran_and_a_failing_org_does_not_stop_the_others(
    org_a, org_b, now, monkeypatch
):
    real = anomalies.scan_org

    def scan(org, now=None):
        if org.pk == org_a.org.pk:
            raise RuntimeError("boom")
        return real(org, now=now)

    monkeypatch.setattr(anomalies, "scan_org", scan)
    anomalies.scan_all(now=now)
    assert ScanSettings.objects.get(org=org_b.org).last_scan_at == now
    assert not ScanSettings.objects.filter(org=org_a.org, last_scan_at__isnull=False).exists()
