-- Data-sharing exports of one patient's record to a party named in her data-sharing consent.
-- A request is queued, built into a bundle encrypted under the patient's data key (ready), and
-- released once to the clinician who asked for it; or it is withheld, with the reason, when the
-- policy or the consent no longer allows it. The bundle is deleted on release and on withholding.
CREATE TABLE data_exports (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    requester_user_id uuid NOT NULL REFERENCES users (id),
    recipient text NOT NULL CHECK (char_length(recipient) BETWEEN 1 AND 200),
    purpose text NOT NULL CHECK (char_length(purpose) BETWEEN 1 AND 500),
    data_categories text[] NOT NULL CHECK (cardinality(data_categories) >= 1),
    status text NOT NULL CHECK (status IN ('queued', 'ready', 'released', 'withheld')),
    requested_at timestamptz NOT NULL,
    built_at timestamptz,
    released_at timestamptz,
    withheld_at timestamptz,
    withheld_reason text,
    data_key_version integer CHECK (data_key_version >= 1),
    bundle_ciphertext bytea,
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    -- Only a ready export holds a bundle.
    CHECK ((status = 'ready') = (bundle_ciphertext IS NOT NULL)),
    CHECK ((bundle_ciphertext IS NULL) = (data_key_version IS NULL)),
    CHECK ((status = 'withheld') = (withheld_reason IS NOT NULL AND withheld_at IS NOT NULL)),
    CHECK ((status = 'released') = (released_at IS NOT NULL))
);
CREATE INDEX data_exports_queue_idx ON data_exports (requested_at) WHERE status = 'queued';
CREATE INDEX data_exports_requester_idx
    ON data_exports (clinic_id, requester_user_id, patient_id, requested_at);
-- An export row is the history of what was shared: the runtime role changes its status and
-- drops its bundle, but never deletes it.
REVOKE DELETE, TRUNCATE ON data_exports FROM nurture_runtime;
