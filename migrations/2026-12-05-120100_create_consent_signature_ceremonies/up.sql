-- Passkey ceremonies that sign a consent text. The challenge is SHA-256 over the text's hash and
-- a random nonce, so the assertion binds the text. A row is deleted when the ceremony finishes,
-- so each challenge accepts one response.
CREATE TABLE consent_signature_ceremonies (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    version_id uuid NOT NULL REFERENCES consent_template_versions (id),
    nonce bytea NOT NULL CHECK (length(nonce) = 32),
    -- webauthn-rs's authentication state with the bound challenge.
    state jsonb NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX consent_signature_ceremonies_expiry ON consent_signature_ceremonies (expires_at);
