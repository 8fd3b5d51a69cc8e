-- Accounts, roles, passkeys, invitations, sign-in ceremonies, sessions and rate limits.

-- Every person who signs in. Name and email are personal data, so they are stored encrypted
-- under the user's own data key (wrapped by the key-encryption key); email_index is a keyed
-- HMAC of the normalised email, so sign-in by email needs no decryption.
CREATE TABLE users (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    status text NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'active', 'deactivated')),
    data_key_wrapped bytea NOT NULL,
    data_key_kek_version integer NOT NULL,
    display_name_ciphertext bytea NOT NULL,
    email_ciphertext bytea NOT NULL,
    email_index bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz,
    CHECK ((status = 'deactivated') = (deactivated_at IS NOT NULL))
);
CREATE INDEX users_clinic_idx ON users (clinic_id);

-- Roles per clinic. A user may hold several roles.
CREATE TABLE role_assignments (
    user_id uuid NOT NULL REFERENCES users (id),
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    role text NOT NULL CHECK (role IN (
        'patient', 'primary_care_provider', 'midwife', 'lactation_consultant',
        'mental_health_specialist', 'care_coordinator', 'researcher',
        'compliance_officer', 'admin'
    )),
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by uuid REFERENCES users (id),
    PRIMARY KEY (user_id, clinic_id, role)
);

-- Registered passkeys. credential_id is unique across all accounts, so one authenticator can
-- never sign in to two accounts. sign_count never decreases (see the trigger below).
CREATE TABLE passkeys (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    credential_id bytea NOT NULL UNIQUE,
    -- webauthn-rs's serialised Passkey: public key, algorithm, counter and backup flags.
    credential jsonb NOT NULL,
    name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 80),
    sign_count bigint NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
    backup_eligible boolean NOT NULL,
    backup_state boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id);

CREATE FUNCTION passkeys_keep_sign_count() RETURNS trigger AS $$
BEGIN
    IF NEW.sign_count < OLD.sign_count THEN
        RAISE EXCEPTION 'passkey sign_count may not decrease (% to %)', OLD.sign_count, NEW.sign_count;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER passkeys_sign_count_never_decreases
    BEFORE UPDATE OF sign_count ON passkeys
    FOR EACH ROW EXECUTE FUNCTION passkeys_keep_sign_count();

-- Single-use enrollment links. Only the SHA-256 of the token is stored. Using, expiring or
-- revoking an invitation is final.
CREATE TABLE invitations (
    id uuid PRIMARY KEY,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    user_id uuid NOT NULL REFERENCES users (id),
    purpose text NOT NULL CHECK (purpose IN ('enrollment', 'recovery')),
    token_hash bytea NOT NULL UNIQUE,
    roles text[] NOT NULL,
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    CHECK (expires_at > created_at),
    CHECK (used_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX invitations_user_idx ON invitations (user_id);

-- WebAuthn ceremony state, kept server side and deleted when it is used, so a challenge can be
-- answered at most once.
CREATE TABLE webauthn_ceremonies (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('registration', 'authentication', 'discoverable', 'step_up')),
    user_id uuid REFERENCES users (id),
    invitation_id uuid REFERENCES invitations (id),
    session_id text,
    state jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry_idx ON webauthn_ceremonies (expires_at);

-- tower-sessions records. user_id, user_agent and the timestamps are copied out of the record
-- so that a user's sessions can be listed and ended.
CREATE TABLE sessions (
    id text PRIMARY KEY,
    data jsonb NOT NULL,
    expires_at timestamptz NOT NULL,
    user_id uuid REFERENCES users (id),
    user_agent text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expiry_idx ON sessions (expires_at);

-- Fixed-window counters for sign-in and enrollment attempts, shared by every app node.
CREATE TABLE rate_limits (
    bucket text PRIMARY KEY,
    window_started_at timestamptz NOT NULL,
    hits integer NOT NULL
);
