"""A row lock takes only the row it means. ``select_for_update().select_related("org")``
locks the joined organization too (PostgreSQL's FOR UPDATE covers every table of the join):
every change of one MQTT user then serialised the whole org, and deadlocked with an audit
append (chain head first, then the org row its events reference) — seen in the e2e ACL test.
Lock with ``of=("self",)``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOINED_LOCK = re.compile(r"select_for_update\((?![^)]*\bof=)[^)]*\)\s*\.select_related\(")


def test_no_lock_reaches_into_the_rows_it_joins():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in ROOT.glob("*/**/*.py")
        if ".venv" not in path.parts and "node_modules" not in path.parts and path.name != "test_row_locks.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if JOINED_LOCK.search(line)
    ]
    assert offenders == [], "lock with of=('self',): " + ", ".join(offenders)


def test_the_rule_catches_a_joined_lock():
    assert JOINED_LOCK.search('MqttUser.objects.select_for_update().select_related("org")')
    assert not JOINED_LOCK.search('MqttUser.objects.select_for_update(of=("self",)).select_related("org")')
