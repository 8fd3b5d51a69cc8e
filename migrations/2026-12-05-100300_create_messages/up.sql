-- Secure messaging between a patient and her care team, or a subset of it.
--
-- A thread belongs to one patient and has a classification like a clinical note. Its subject and
-- every message body are encrypted under the patient's data key, so erasing the patient makes
-- them unreadable too. Participants are user accounts: the patient's own and current members of
-- her care team. Each participant's read state is the sequence number of the last message she
-- has read, so her unread count is the number of later messages that others sent.

CREATE TABLE message_threads (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    classification text NOT NULL
        CHECK (classification IN ('maternal', 'infant', 'mental_health', 'family_history')),
    data_key_version integer NOT NULL CHECK (data_key_version >= 1),
    subject_ciphertext bytea NOT NULL,
    created_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    -- Number of messages, which is also the sequence number of the latest one.
    message_count bigint NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('message_threads', 4);
CREATE INDEX message_threads_patient_idx ON message_threads (clinic_id, patient_id, created_at);

CREATE TABLE message_participants (
    clinic_id uuid NOT NULL,
    thread_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id),
    -- Sequence number of the last message the participant has read; 0 before the first.
    read_through bigint NOT NULL DEFAULT 0 CHECK (read_through >= 0),
    PRIMARY KEY (clinic_id, thread_id, user_id),
    FOREIGN KEY (clinic_id, thread_id) REFERENCES message_threads (clinic_id, id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('message_participants', 4);
CREATE INDEX message_participants_user_idx ON message_participants (clinic_id, user_id);

CREATE TABLE messages (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    thread_id uuid NOT NULL,
    -- Position in the thread, from 1, assigned under the thread row's lock.
    sequence bigint NOT NULL CHECK (sequence >= 1),
    sender_user_id uuid NOT NULL,
    sent_at timestamptz NOT NULL,
    data_key_version integer NOT NULL CHECK (data_key_version >= 1),
    -- Plain text, encrypted; never HTML.
    body_ciphertext bytea NOT NULL,
    PRIMARY KEY (clinic_id, id),
    UNIQUE (clinic_id, thread_id, sequence),
    -- Only a participant can send.
    FOREIGN KEY (clinic_id, thread_id, sender_user_id)
        REFERENCES message_participants (clinic_id, thread_id, user_id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('messages', 4);
