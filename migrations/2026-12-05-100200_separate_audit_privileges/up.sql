-- Privilege separation. The role that runs migrations owns every table; the server connects as
-- a member of the group role nurture_runtime, which owns nothing. Because only an owner can run
-- ALTER TABLE, the runtime role cannot disable the audit tables' append-only triggers, detach or
-- drop their partitions. On the audit tables it may only read and insert; on the chain heads it
-- may read, create and advance them, which an append needs.
--
-- Creating roles needs a superuser or CREATEROLE, which the owner role does not have, so the
-- group role must exist before this migration runs: scripts/setup creates nurture_runtime and
-- the login role nurture_app in it. Every table created later by the owner gets the runtime
-- grants through the default privileges below; a new append-only table must revoke them.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nurture_runtime') THEN
        RAISE EXCEPTION 'role nurture_runtime does not exist'
            USING HINT = 'Run scripts/setup, or as a superuser: CREATE ROLE nurture_runtime NOLOGIN';
    END IF;
END;
$$;

GRANT USAGE ON SCHEMA public TO nurture_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO nurture_runtime;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO nurture_runtime;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO nurture_runtime;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO nurture_runtime;

-- The migration history and the record of unkeyed events are the owner's to write.
REVOKE INSERT, UPDATE, DELETE ON __diesel_schema_migrations, audit_unkeyed_prefixes
    FROM nurture_runtime;
-- A chain head is never removed.
REVOKE DELETE ON audit_chain_heads FROM nurture_runtime;

-- Adds the TRUNCATE trigger to one partition and leaves readers and the runtime role only
-- SELECT and INSERT on it. Privileges on a partition matter when it is named directly.
CREATE OR REPLACE FUNCTION audit_protect_partition(partition regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = partition AND tgname = 'no_truncate') THEN
        EXECUTE format(
            'CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %s
                 FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()',
            partition);
    END IF;
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM PUBLIC', partition);
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM nurture_runtime', partition);
END;
$$;

REVOKE UPDATE, DELETE, TRUNCATE ON data_access_audit, security_events FROM nurture_runtime;
SELECT audit_protect_partition(inhrelid::regclass)
FROM pg_inherits
WHERE inhparent IN ('data_access_audit'::regclass, 'security_events'::regclass);

-- Creating partitions is the owner's job.
REVOKE EXECUTE ON FUNCTION audit_protect_partition(regclass), audit_create_month_partitions(date)
    FROM PUBLIC;
