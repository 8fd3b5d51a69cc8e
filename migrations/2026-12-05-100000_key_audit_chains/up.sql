-- Audit events are now hashed with HMAC-SHA-256 under the audit key from the application's
-- configuration (NURTURE_AUDIT_KEY), so that whoever can write these tables cannot compute the
-- hash of an altered event. Each event records the version of the key that signed it, so the key
-- can be replaced while older events stay verifiable.
--
-- Events stored before this migration keep version 0: they were hashed with plain SHA-256 and
-- cannot be signed now, because the database never sees the key. audit_unkeyed_prefixes records
-- how far each chain reached at this point. The verifier accepts version 0 only up to there, so
-- an unkeyed event appended later is reported.

ALTER TABLE data_access_audit
    ADD COLUMN key_version integer NOT NULL DEFAULT 0 CHECK (key_version >= 0);
ALTER TABLE data_access_audit ALTER COLUMN key_version DROP DEFAULT;
ALTER TABLE security_events
    ADD COLUMN key_version integer NOT NULL DEFAULT 0 CHECK (key_version >= 0);
ALTER TABLE security_events ALTER COLUMN key_version DROP DEFAULT;

CREATE TABLE audit_unkeyed_prefixes (
    chain text NOT NULL CHECK (chain IN ('data_access_audit', 'security_events')),
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    shard smallint NOT NULL CHECK (shard BETWEEN 0 AND 255),
    -- Sequence number of the shard's last event without a key.
    last_sequence bigint NOT NULL CHECK (last_sequence >= 1),
    PRIMARY KEY (chain, clinic_id, shard)
);

INSERT INTO audit_unkeyed_prefixes (chain, clinic_id, shard, last_sequence)
SELECT chain, clinic_id, shard, last_sequence FROM audit_chain_heads WHERE last_sequence > 0;
