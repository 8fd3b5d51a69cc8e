-- Care protocols: each clinic's rule settings as numbered versions, a record of every rule
-- that fired (with the version and the threshold in force), and the alerts and tasks it
-- created. Alerts and tasks carry the data category of the observation behind them, so a
-- clinician sees only those her role may read.
CREATE TABLE protocol_settings (
    clinic_id uuid NOT NULL REFERENCES clinics (id),
    version integer NOT NULL CHECK (version >= 1),
    settings jsonb NOT NULL CHECK (jsonb_typeof(settings) = 'object'),
    changed_by uuid REFERENCES users (id),
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, version)
);

CREATE TABLE protocol_firings (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    observation_id uuid NOT NULL,
    rule text NOT NULL CHECK (rule ~ '^[a-z][a-z0-9_]{0,62}$'),
    -- Settings version in force; 0 for the built-in defaults of a clinic that never changed them.
    settings_version integer NOT NULL CHECK (settings_version >= 0),
    threshold text NOT NULL CHECK (length(threshold) BETWEEN 1 AND 200),
    observed text NOT NULL CHECK (length(observed) BETWEEN 1 AND 200),
    fired_at timestamptz NOT NULL,
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, observation_id) REFERENCES observations (clinic_id, id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('protocol_firings', 4);
CREATE INDEX protocol_firings_patient_idx ON protocol_firings (clinic_id, patient_id, fired_at);

CREATE TABLE care_alerts (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    firing_id uuid NOT NULL,
    category text NOT NULL CHECK (category IN ('maternal', 'infant', 'mental_health')),
    priority smallint NOT NULL CHECK (priority BETWEEN 0 AND 2),
    roles text[] NOT NULL CHECK (cardinality(roles) >= 1),
    raised_at timestamptz NOT NULL,
    acknowledged_by uuid REFERENCES users (id),
    acknowledged_at timestamptz,
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, firing_id) REFERENCES protocol_firings (clinic_id, id),
    CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL))
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('care_alerts', 4);
CREATE INDEX care_alerts_patient_idx ON care_alerts (clinic_id, patient_id, raised_at);

CREATE TABLE care_tasks (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    -- The firing that created the task; NULL for a task a clinician created by hand.
    firing_id uuid,
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
    category text NOT NULL CHECK (category IN (
        'maternal', 'infant', 'mental_health', 'family_history', 'care_logistics'
    )),
    priority smallint NOT NULL CHECK (priority BETWEEN 0 AND 2),
    owner_role text NOT NULL CHECK (owner_role IN (
        'primary_care_provider', 'midwife', 'lactation_consultant',
        'mental_health_specialist', 'care_coordinator'
    )),
    -- NULL while nobody in the owner role is on the care team: the task waits for one.
    owner_user_id uuid REFERENCES users (id),
    due_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, firing_id) REFERENCES protocol_firings (clinic_id, id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('care_tasks', 4);
CREATE INDEX care_tasks_patient_idx ON care_tasks (clinic_id, patient_id, status);
CREATE INDEX care_tasks_owner_idx ON care_tasks (owner_user_id, status);

-- Every change of a task's status or owner, oldest first.
CREATE TABLE care_task_history (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    task_id uuid NOT NULL,
    -- NULL for changes made by a protocol rule.
    actor_user_id uuid REFERENCES users (id),
    status text NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    owner_user_id uuid REFERENCES users (id),
    note text CHECK (length(note) <= 1000),
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, task_id) REFERENCES care_tasks (clinic_id, id)
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('care_task_history', 4);
CREATE INDEX care_task_history_task_idx ON care_task_history (clinic_id, task_id, changed_at);
