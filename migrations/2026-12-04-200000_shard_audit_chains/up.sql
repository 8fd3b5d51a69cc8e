-- Splits each clinic's audit chain into shards, so that concurrent writers for one clinic do not
-- all wait for the same chain-head lock. A chain is now identified by (table, clinic, shard),
-- and sequence numbers count from 1 within each shard. Existing events and heads become shard
-- 0, which continues their chain unchanged. The shard is not part of an event's hash: an event
-- moved to another shard leaves a gap in both chains, which the verifier reports.

ALTER TABLE audit_chain_heads
    ADD COLUMN shard smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 255);
ALTER TABLE audit_chain_heads DROP CONSTRAINT audit_chain_heads_pkey;
ALTER TABLE audit_chain_heads ADD PRIMARY KEY (chain, clinic_id, shard);
ALTER TABLE audit_chain_heads ALTER COLUMN shard DROP DEFAULT;

-- Existing rows keep shard 0. Dropping the default makes an insert that omits the shard fail.
ALTER TABLE data_access_audit
    ADD COLUMN shard smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 255);
ALTER TABLE data_access_audit ALTER COLUMN shard DROP DEFAULT;
ALTER TABLE security_events
    ADD COLUMN shard smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 255);
ALTER TABLE security_events ALTER COLUMN shard DROP DEFAULT;

-- The verifier walks each shard in (sequence, id) order.
DROP INDEX data_access_audit_chain;
CREATE INDEX data_access_audit_chain ON data_access_audit (clinic_id, shard, sequence, id);
DROP INDEX security_events_chain;
CREATE INDEX security_events_chain ON security_events (clinic_id, shard, sequence, id);
