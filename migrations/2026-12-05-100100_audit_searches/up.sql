-- A search for patients is an access even when it finds nobody, so it is recorded as an event
-- with the action 'search' and no patient. Every other action still names a patient.

ALTER TABLE data_access_audit ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE data_access_audit DROP CONSTRAINT data_access_audit_action_check;
ALTER TABLE data_access_audit ADD CONSTRAINT data_access_audit_action_check
    CHECK (action IN ('read', 'write', 'delete', 'export', 'search'));
ALTER TABLE data_access_audit ADD CONSTRAINT data_access_audit_patient_check
    CHECK (patient_id IS NOT NULL OR action = 'search');
