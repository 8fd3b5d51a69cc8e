-- Consent: templates with versioned texts, the patients' signed grants, and the consent ledger.
--
-- A template version's text never changes once written: its SHA-256 is stored beside it (and
-- checked here), and a patient's signature covers that hash. Grants, their signatures and their
-- revocations are never changed either: a revocation is a row of its own. The ledger is
-- append-only: every grant, revocation and expiry is one entry that carries the hash of the
-- patient's previous entry and of the clinic's previous entry, so an edit, removal or insertion
-- breaks both chains. `nurture verify-consents` recomputes them.
-- Triggers reject the changes that these rules forbid; the table owner and superusers can still
-- disable them, which the hash chains then reveal.

CREATE TABLE consent_templates (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    kind text NOT NULL
        CHECK (kind IN ('care_coordination', 'research_participation', 'data_sharing')),
    title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (clinic_id, id)
);

CREATE TABLE consent_template_versions (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    template_id uuid NOT NULL,
    version integer NOT NULL CHECK (version >= 1),
    body text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 20000),
    -- SHA-256 of the body's UTF-8 bytes: what a patient signs.
    text_hash bytea NOT NULL CHECK (text_hash = sha256(convert_to(body, 'UTF8'))),
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (template_id, version),
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, template_id) REFERENCES consent_templates (clinic_id, id)
);

CREATE TABLE consent_grants (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    template_version_id uuid NOT NULL,
    -- access::DataCategory names.
    data_categories text[] NOT NULL CHECK (cardinality(data_categories) BETWEEN 1 AND 6),
    -- identity::Role names of the roles the consent admits.
    recipient_roles text[] NOT NULL CHECK (cardinality(recipient_roles) <= 9),
    -- Named organisations or people outside the clinic, for data sharing.
    named_parties text[] NOT NULL CHECK (cardinality(named_parties) <= 20),
    purpose text NOT NULL CHECK (length(btrim(purpose)) BETWEEN 1 AND 500),
    starts_at timestamptz NOT NULL,
    expires_at timestamptz CHECK (expires_at > starts_at),
    granted_by uuid NOT NULL REFERENCES users (id),
    granted_at timestamptz NOT NULL,
    UNIQUE (clinic_id, id),
    CHECK (cardinality(recipient_roles) + cardinality(named_parties) >= 1),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, template_version_id)
        REFERENCES consent_template_versions (clinic_id, id)
);
CREATE INDEX consent_grants_patient ON consent_grants (clinic_id, patient_id, granted_at);

-- The signature evidence of a grant, written with it.
CREATE TABLE consent_signatures (
    grant_id uuid PRIMARY KEY REFERENCES consent_grants (id),
    -- The typed full name and the optional witness, encrypted under the patient's data key.
    data_key_version integer NOT NULL CHECK (data_key_version >= 1),
    signer_name_ciphertext bytea NOT NULL,
    witness_name_ciphertext bytea,
    -- The passkey that signed, the text hash it signed, and the WebAuthn assertion as the JSON
    -- text the browser sent (text, not jsonb, so that its hash in the ledger stays exact).
    credential_id bytea NOT NULL CHECK (length(credential_id) BETWEEN 1 AND 1023),
    signed_text_hash bytea NOT NULL CHECK (length(signed_text_hash) = 32),
    assertion text NOT NULL CHECK (length(assertion) BETWEEN 2 AND 20000)
);

-- At most one revocation per grant.
CREATE TABLE consent_revocations (
    grant_id uuid PRIMARY KEY REFERENCES consent_grants (id),
    revoked_at timestamptz NOT NULL,
    revoked_by uuid NOT NULL REFERENCES users (id),
    -- The patient's reason, encrypted under her data key.
    data_key_version integer NOT NULL CHECK (data_key_version >= 1),
    reason_ciphertext bytea NOT NULL
);

CREATE TABLE consent_chain_heads (
    -- 'patient' chains are keyed by patient id, 'clinic' chains by clinic id.
    scope text NOT NULL CHECK (scope IN ('patient', 'clinic')),
    owner_id uuid NOT NULL,
    last_sequence bigint NOT NULL CHECK (last_sequence >= 0),
    last_hash bytea NOT NULL CHECK (length(last_hash) = 32),
    PRIMARY KEY (scope, owner_id)
);

CREATE TABLE consent_ledger (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    patient_id uuid NOT NULL,
    grant_id uuid NOT NULL REFERENCES consent_grants (id),
    event text NOT NULL CHECK (event IN ('granted', 'revoked', 'expired')),
    -- When the event takes effect: the grant's start, the revocation or the expiry instant.
    effective_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    -- SHA-256 of the grant's fields that the event covers.
    grant_digest bytea NOT NULL CHECK (length(grant_digest) = 32),
    patient_sequence bigint NOT NULL CHECK (patient_sequence >= 1),
    patient_prev_hash bytea NOT NULL CHECK (length(patient_prev_hash) = 32),
    clinic_sequence bigint NOT NULL CHECK (clinic_sequence >= 1),
    clinic_prev_hash bytea NOT NULL CHECK (length(clinic_prev_hash) = 32),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    UNIQUE (grant_id, event)
);
CREATE INDEX consent_ledger_patient ON consent_ledger (patient_id, patient_sequence);
CREATE INDEX consent_ledger_clinic ON consent_ledger (clinic_id, clinic_sequence);

CREATE FUNCTION consent_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: consent history is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['consent_template_versions', 'consent_grants',
        'consent_signatures', 'consent_revocations', 'consent_ledger'] LOOP
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I
                 FOR EACH ROW EXECUTE FUNCTION consent_reject_change()',
            name || '_append_only', name);
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE TRUNCATE ON %I
                 FOR EACH STATEMENT EXECUTE FUNCTION consent_reject_change()',
            name || '_no_truncate', name);
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM PUBLIC', name);
    END LOOP;
END;
$$;
