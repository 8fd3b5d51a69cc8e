-- Screening questionnaires that a patient's care team asks her to complete in the portal. A
-- clinician whose role may write mental health data assigns an instrument; the portal lists
-- the assignment as awaiting her until she submits that questionnaire, which records the
-- observation it produced. One assignment per instrument stays open at a time.
CREATE TABLE screening_assignments (
    id uuid NOT NULL,
    clinic_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    instrument text NOT NULL CHECK (instrument IN ('epds', 'phq9', 'gad7')),
    assigned_by uuid NOT NULL REFERENCES users (id),
    assigned_at timestamptz NOT NULL,
    completed_at timestamptz,
    observation_id uuid,
    PRIMARY KEY (clinic_id, id),
    FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
    FOREIGN KEY (clinic_id, observation_id) REFERENCES observations (clinic_id, id),
    CHECK ((completed_at IS NULL) = (observation_id IS NULL))
) PARTITION BY HASH (clinic_id);
SELECT records_create_hash_partitions('screening_assignments', 4);
CREATE UNIQUE INDEX screening_assignments_open_idx
    ON screening_assignments (clinic_id, patient_id, instrument)
    WHERE completed_at IS NULL;
