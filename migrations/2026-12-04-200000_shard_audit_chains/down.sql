-- Merging shards back into one chain per clinic would need new hashes, and the events cannot be
-- changed, so this reverts only a database whose events all sit in shard 0.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_chain_heads WHERE shard <> 0)
        OR EXISTS (SELECT 1 FROM data_access_audit WHERE shard <> 0)
        OR EXISTS (SELECT 1 FROM security_events WHERE shard <> 0) THEN
        RAISE EXCEPTION 'cannot revert audit chain shards: events or chain heads exist in shards other than 0';
    END IF;
END;
$$;

DROP INDEX data_access_audit_chain;
CREATE INDEX data_access_audit_chain ON data_access_audit (clinic_id, sequence);
DROP INDEX security_events_chain;
CREATE INDEX security_events_chain ON security_events (clinic_id, sequence);

ALTER TABLE audit_chain_heads DROP CONSTRAINT audit_chain_heads_pkey;
ALTER TABLE audit_chain_heads DROP COLUMN shard;
ALTER TABLE audit_chain_heads ADD PRIMARY KEY (chain, clinic_id);
ALTER TABLE data_access_audit DROP COLUMN shard;
ALTER TABLE security_events DROP COLUMN shard;
