-- The audit trail: who accessed which patient's data, and identity events such as sign-ins.
--
-- Both tables are append-only and tamper-evident. Triggers reject UPDATE, DELETE and TRUNCATE,
-- and UPDATE, DELETE and TRUNCATE are revoked from PUBLIC. The table owner and superusers can
-- still disable triggers, detach or drop partitions, or set session_replication_role, so each
-- clinic's events also form a SHA-256 hash chain, computed by the application, that
-- `nurture verify-audit` recomputes. Every event names its predecessor's hash, and
-- audit_chain_heads holds the last sequence number and hash of each chain, so an altered,
-- removed or inserted event breaks the chain.
--
-- The tables are partitioned by month on occurred_at. A DEFAULT partition catches rows outside
-- the created months, so an insert never fails for lack of a partition.

CREATE TABLE audit_chain_heads (
    -- Name of the audited table whose chain this is.
    chain text NOT NULL CHECK (chain IN ('data_access_audit', 'security_events')),
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    last_sequence bigint NOT NULL CHECK (last_sequence >= 0),
    last_hash bytea NOT NULL CHECK (length(last_hash) = 32),
    PRIMARY KEY (chain, clinic_id)
);

CREATE TABLE data_access_audit (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    -- Position in the clinic's chain, starting at 1 with no gaps.
    sequence bigint NOT NULL CHECK (sequence >= 1),
    occurred_at timestamptz NOT NULL,
    -- NULL when the system acted on its own, such as a scheduled export.
    actor_user_id uuid,
    actor_roles text[] NOT NULL,
    patient_id uuid NOT NULL,
    action text NOT NULL CHECK (action IN ('read', 'write', 'delete', 'export')),
    purpose text NOT NULL CHECK (length(btrim(purpose)) BETWEEN 1 AND 500),
    data_elements text[] NOT NULL CHECK (cardinality(data_elements) >= 1),
    client_address inet,
    user_agent text CHECK (length(user_agent) <= 1000),
    request_id text CHECK (length(request_id) <= 200),
    outcome text NOT NULL CHECK (outcome IN ('allowed', 'denied')),
    emergency boolean NOT NULL,
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    -- A partitioned table's keys must include the partition column. The sequence is kept unique
    -- per clinic by the lock on audit_chain_heads, and the verifier reports any duplicate.
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE INDEX data_access_audit_chain ON data_access_audit (clinic_id, sequence);
CREATE INDEX data_access_audit_patient ON data_access_audit (patient_id, occurred_at DESC, id DESC);

CREATE TABLE security_events (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    sequence bigint NOT NULL CHECK (sequence >= 1),
    occurred_at timestamptz NOT NULL,
    actor_user_id uuid,
    -- The user the event is about, when it differs from the actor or there is no actor.
    subject_user_id uuid,
    -- An open set of names, checked by SecurityEventKind in the application.
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,62}$'),
    -- Structured context without PHI, such as the number of failed attempts.
    detail jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(detail) = 'object'),
    client_address inet,
    user_agent text CHECK (length(user_agent) <= 1000),
    request_id text CHECK (length(request_id) <= 200),
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE INDEX security_events_chain ON security_events (clinic_id, sequence);
CREATE INDEX security_events_subject ON security_events (subject_user_id, occurred_at DESC, id DESC);
CREATE INDEX security_events_actor ON security_events (actor_user_id, occurred_at DESC, id DESC);

CREATE FUNCTION audit_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the audit trail is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Row triggers on a partitioned table are cloned onto every partition. Statement triggers are
-- not, so each partition gets its own TRUNCATE trigger in audit_protect_partition.
CREATE TRIGGER data_access_audit_append_only
    BEFORE UPDATE OR DELETE ON data_access_audit
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER data_access_audit_no_truncate
    BEFORE TRUNCATE ON data_access_audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER security_events_append_only
    BEFORE UPDATE OR DELETE ON security_events
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER security_events_no_truncate
    BEFORE TRUNCATE ON security_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();

REVOKE UPDATE, DELETE, TRUNCATE ON data_access_audit, security_events FROM PUBLIC;

-- Adds the TRUNCATE trigger and the revocation to one partition.
CREATE FUNCTION audit_protect_partition(partition regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %s
             FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change()',
        partition);
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM PUBLIC', partition);
END;
$$;

-- Creates the partitions of both audit tables for the UTC month that contains `month`, unless they
-- exist. It fails if the DEFAULT partition already holds rows of that month, so call it before
-- the month starts.
-- NOTE: nothing schedules this yet; the migration creates the current and the next month, and
-- later rows fall into the DEFAULT partition until someone calls it for later months.
CREATE FUNCTION audit_create_month_partitions(month date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    first_day date := date_trunc('month', month)::date;
    next_first_day date := (date_trunc('month', month) + interval '1 month')::date;
    parent text;
    partition text;
BEGIN
    FOREACH parent IN ARRAY ARRAY['data_access_audit', 'security_events'] LOOP
        partition := format('%s_%s', parent, to_char(first_day, 'YYYY_MM'));
        IF to_regclass(partition) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                partition, parent,
                first_day::timestamp AT TIME ZONE 'UTC',
                next_first_day::timestamp AT TIME ZONE 'UTC');
            PERFORM audit_protect_partition(partition::regclass);
        END IF;
    END LOOP;
END;
$$;

CREATE TABLE data_access_audit_default PARTITION OF data_access_audit DEFAULT;
CREATE TABLE security_events_default PARTITION OF security_events DEFAULT;
SELECT audit_protect_partition('data_access_audit_default');
SELECT audit_protect_partition('security_events_default');

SELECT audit_create_month_partitions((now() AT TIME ZONE 'UTC')::date);
SELECT audit_create_month_partitions((now() AT TIME ZONE 'UTC' + interval '1 month')::date);
