#!/usr/bin/env bash
# Install (when missing) and start what the test suite needs: PostgreSQL and Redis on
# loopback, Debian's Chromium for the browser tests and mosquitto's clients for the
# broker tests. Idempotent: a running service is left alone. Works as root (CI) or as a
# user with sudo.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Real MQTT clients of the broker tests: mosquitto_pub and mosquitto_sub.
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} from Debian's packages..."
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PostgreSQL: the newest installed version's "main" cluster, on 127.0.0.1:5432.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
    as_root pg_createcluster "$version" main >/dev/null
  fi
  as_root pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  pg_isready -h 127.0.0.1 -p 5432
fi
as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cloudsignal') THEN
    CREATE ROLE cloudsignal LOGIN CREATEDB PASSWORD 'cloudsignal';
  END IF;
  -- The role the dashboard's processes use in production: the migrations grant it all but
  -- changing the audit log (audit 0009); the tests connect as it to prove that.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cloudsignal_app') THEN
    CREATE ROLE cloudsignal_app LOGIN PASSWORD 'cloudsignal_app';
  END IF;
END $$;
SELECT 'CREATE DATABASE cloudsignal OWNER cloudsignal'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'cloudsignal')\gexec
SQL

# Redis on 127.0.0.1:6379, in memory only.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --logfile /tmp/cloudsignal-test-redis.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
fi
echo "Test services ready: PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379, $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium')"
