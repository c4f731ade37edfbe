"""PostgreSQL: the application's role may add to the audit log, never change or remove it.

Migrations run as the role that owns the tables; the dashboard's processes connect as
DATABASE_APP_ROLE (default ``cloudsignal_app``), which gets what the code needs on every
table, except on the audit tables: events and verified heads can be read and added, never
updated, deleted or truncated; checkpoints only read. Retention deletes through
``audit_purge_prefix``, a function owned by the owner role (SECURITY DEFINER), which deletes
only a prefix of one org's chain whose every event is older than the org's retention, by
the database's own clock. ``cloudsignal.audit_purge`` (the trigger's switch) can be set by
any session, but without the DELETE privilege it opens nothing to the application role.

Nothing happens when the role does not exist (make run on SQLite, or a deployment that
runs everything as one role: then only the trigger and the chain's MACs stand).
"""

from django.conf import settings
from django.db import migrations

AUDIT_APPEND_ONLY = ("audit_auditevent", "audit_auditverifiedhead")
AUDIT_READ_ONLY = ("audit_auditcheckpoint",)

PURGE = """
CREATE OR REPLACE FUNCTION audit_purge_prefix(p_org text, p_up_to bigint, p_checkpoint_hash text,
                                              p_cutoff timestamptz, p_mac text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    retention integer;
    deleted bigint;
BEGIN
    SELECT audit_retention_days INTO retention FROM orgs_organization WHERE id = p_org;
    IF retention IS NULL THEN
        RAISE EXCEPTION 'no organization %', p_org USING ERRCODE = 'no_data_found';
    END IF;
    -- Five minutes' grace for the application server's clock running ahead of this one.
    IF p_cutoff > now() - make_interval(days => retention) + interval '5 minutes' THEN
        RAISE EXCEPTION 'the cutoff % is inside the retention of %', p_cutoff, p_org
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM audit_auditevent WHERE org_id = p_org AND seq <= p_up_to AND at >= p_cutoff) THEN
        RAISE EXCEPTION 'events up to #% of % are not all older than %', p_up_to, p_org, p_cutoff
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('cloudsignal.audit_purge', 'on', true);
    DELETE FROM audit_auditevent WHERE org_id = p_org AND seq <= p_up_to;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    PERFORM set_config('cloudsignal.audit_purge', 'off', true);
    INSERT INTO audit_auditcheckpoint (org_id, seq, hash, purged, cutoff, at, mac)
        VALUES (p_org, p_up_to, p_checkpoint_hash, deleted, p_cutoff, now(), p_mac);
    RETURN deleted;
END
$$;
REVOKE ALL ON FUNCTION audit_purge_prefix(text, bigint, text, timestamptz, text) FROM PUBLIC;
"""


def _role_exists(cursor, role: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cursor.fetchone() is not None


def grant(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    role = settings.DATABASE_APP_ROLE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(PURGE)
        if not role or not _role_exists(cursor, role):
            return
        q = schema_editor.connection.ops.quote_name(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {q}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {q}")
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {q}")
        cursor.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {q}")
        cursor.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {q}")
        for table in AUDIT_APPEND_ONLY:
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {q}")
        for table in AUDIT_READ_ONLY:
            cursor.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {q}")
        cursor.execute(
            f"GRANT EXECUTE ON FUNCTION audit_purge_prefix(text, bigint, text, timestamptz, text) TO {q}"
        )


def ungrant(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP FUNCTION IF EXISTS audit_purge_prefix(text, bigint, text, timestamptz, text)")


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_chain_macs_and_verified_heads")]

    operations = [migrations.RunPython(grant, ungrant)]
