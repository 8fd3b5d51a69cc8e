GRANT EXECUTE ON FUNCTION audit_protect_partition(regclass), audit_create_month_partitions(date)
    TO PUBLIC;

CREATE OR REPLACE FUNCTION audit_protect_partition(partition regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %s
             FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()',
        partition);
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM PUBLIC', partition);
END;
$$;

ALTER DEFAULT PRIVILEGES IN SCHEMA public
    REVOKE USAGE, SELECT, UPDATE ON SEQUENCES FROM nurture_runtime;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM nurture_runtime;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM nurture_runtime;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM nurture_runtime;
REVOKE USAGE ON SCHEMA public FROM nurture_runtime;
