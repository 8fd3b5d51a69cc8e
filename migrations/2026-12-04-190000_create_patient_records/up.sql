-- Patient records: patients, infants, care teams, clinical entries, observations, appointments
-- and clinical notes.
--
-- Every value that identifies a patient or describes her care is encrypted by the application
-- under the patient's data key, which is stored only wrapped by a key-encryption key (KEK).
-- Each ciphertext's additional authenticated data names its table, column, row id, patient id,
-- data class and data-key version, so a ciphertext copied to another row fails to decrypt.
-- Erasing a patient sets her wrapped data key to NULL, which makes every ciphertext of hers
-- unreadable (crypto-shredding). A backup taken before the erasure still holds the wrapped key
-- until the KEK that wrapped it is rotated out and destroyed.
--
-- The tables are hash-partitioned by clinic_id into 4 partitions. A partitioned table's primary
-- key must include the partition column, so every key here is (clinic_id, id), and references
-- between patient tables carry clinic_id too, which also keeps rows of one clinic from pointing
-- at another clinic's patient.

CREATE FUNCTION records_create_hash_partitions(parent regclass, partitions integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    FOR remainder IN 0 .. partitions - 1 LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF %s FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
            parent::text || '_p' || remainder, parent, partitions, remainder);
    END LOOP;
END;
$$;

CREATE TABLE patients (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    -- The patient's own account, once she is invited to the portal.
    user_id uuid REFERENCES users (id),
    -- NULL once the patient is erased.
    data_key_wrapped bytea,
    data_key_kek_version integer,
    -- Version of the data key named in every ciphertext's AAD.
    data_key_version integer NOT NULL DEFAULT 1 CHECK (data_key_version >= 1),
    full_name_ciphertext bytea NOT NULL,
    date_of_birth_ciphertext bytea NOT NULL,
    address_ciphertext bytea NOT NULL,
    phone_ciphertext bytea NOT NULL,
    -- HMAC of the clinic id and the date of birth; NULL once the patient is erased.
    date_of_birth_index bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at timestamptz,
    PRIMARY KEY (clinic_id, id),
    CHECK ((data_key_wrapped IS NULL) = (data_key_kek_version IS NULL)),
    CHECK ((erased_at IS NULL) = (data_key_wrapped IS NOT NULL)),
    CHECK (erased_at IS NULL OR date_of_birth_index IS NULL)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('patients', 4);
CREATE INDEX patients_date_of_birth_idx ON patients (clinic_id, date_of_birth_index);
-- Key rotation selects the rows whose KEK version is not the current one.
CREATE INDEX patients_kek_version_idx ON patients (data_key_kek_version)
    WHERE data_key_wrapped IS NOT NULL;
CREATE INDEX users_kek_version_idx ON users (data_key_kek_version);

-- One row per normalised token of a patient's name: an HMAC of the clinic id and the token.
CREATE TABLE patient_name_tokens (
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    token_index bytea NOT NULL,
    PRIMARY KEY (clinic_id, token_index, patient_id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('patient_name_tokens', 4);

CREATE TABLE infants (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    -- The mother.
    patient_id uuid NOT NULL,
    data_key_version integer NOT NULL CHECK (data_key_version >= 1),
    name_ciphertext bytea NOT NULL,
    birth_date_ciphertext bytea NOT NULL,
    birth_weight_ciphertext bytea NOT NULL,
    sex_ciphertext bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('infants', 4);
CREATE INDEX infants_patient_idx ON infants (clinic_id, patient_id);

CREATE TABLE care_team_members (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    provider_user_id uuid NOT NULL REFERENCES users (id),
    role text NOT NULL CHECK (role IN (
        'primary_care_provider', 'midwife', 'lactation_consultant',
        'mental_health_specialist', 'care_coordinator'
    )),
    starts_at timestamptz NOT NULL,
    -- NULL while the membership is open-ended.
    ends_at timestamptz,
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    CHECK (ends_at IS NULL OR ends_at > starts_at)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('care_team_members', 4);
CREATE INDEX care_team_members_patient_idx ON care_team_members (clinic_id, patient_id);
CREATE INDEX care_team_members_provider_idx ON care_team_members (provider_user_id);

CREATE TABLE clinical_entries (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    -- Set when the entry is about one of the patient's infants.
    infant_id uuid,
    classification text NOT NULL
        CHECK (classification IN ('maternal', 'infant', 'mental_health', 'family_history')),
    author_user_id uuid NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL,
    entry_type text NOT NULL CHECK (entry_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    data_key_version integer NOT NULL CHECK (data_key_version >= 1),
    -- Encrypted JSON document.
    payload_ciphertext bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, infant_id) REFERENCES infants (clinic_id, id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('clinical_entries', 4);
CREATE INDEX clinical_entries_patient_idx
    ON clinical_entries (clinic_id, patient_id, classification, recorded_at);

CREATE TABLE observations (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    infant_id uuid,
    kind text NOT NULL CHECK (kind IN (
        'blood_pressure', 'temperature', 'weight', 'length', 'head_circumference',
        'feeding', 'nappy', 'epds', 'phq9', 'gad7'
    )),
    observed_at timestamptz NOT NULL,
    author_user_id uuid NOT NULL REFERENCES users (id),
    data_key_version integer NOT NULL CHECK (data_key_version >= 1),
    -- Encrypted JSON: the value with its units as entered, and normalised.
    value_ciphertext bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, infant_id) REFERENCES infants (clinic_id, id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('observations', 4);
CREATE INDEX observations_patient_idx ON observations (clinic_id, patient_id, kind, observed_at);

-- Appointments hold no free text, so nothing in them is encrypted.
CREATE TABLE appointments (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    clinician_user_id uuid NOT NULL REFERENCES users (id),
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    kind text NOT NULL CHECK (kind IN (
        'postnatal_visit', 'gp_review', 'lactation_consultation', 'mental_health_session',
        'infant_check', 'care_coordination'
    )),
    status text NOT NULL CHECK (status IN ('scheduled', 'completed', 'cancelled', 'no_show')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    CHECK (ends_at > starts_at)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('appointments', 4);
CREATE INDEX appointments_patient_idx ON appointments (clinic_id, patient_id, starts_at);
CREATE INDEX appointments_clinician_idx ON appointments (clinician_user_id, starts_at);

CREATE TABLE clinical_notes (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    classification text NOT NULL
        CHECK (classification IN ('maternal', 'infant', 'mental_health', 'family_history')),
    author_user_id uuid NOT NULL REFERENCES users (id),
    written_at timestamptz NOT NULL,
    data_key_version integer NOT NULL CHECK (data_key_version >= 1),
    body_ciphertext bytea NOT NULL,
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('clinical_notes', 4);
CREATE INDEX clinical_notes_patient_idx
    ON clinical_notes (clinic_id, patient_id, classification, written_at);
