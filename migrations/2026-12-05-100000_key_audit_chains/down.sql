-- Dropping the key version would leave keyed events unverifiable, so this reverts only a
-- database whose events all predate keys.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM data_access_audit WHERE key_version <> 0)
        OR EXISTS (SELECT 1 FROM security_events WHERE key_version <> 0) THEN
        RAISE EXCEPTION 'cannot revert keyed audit chains: events signed with an audit key exist';
    END IF;
END;
$$;

DROP TABLE audit_unkeyed_prefixes;
ALTER TABLE data_access_audit DROP COLUMN key_version;
ALTER TABLE security_events DROP COLUMN key_version;
