-- Events cannot be removed, so this reverts only a database without search events.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM data_access_audit WHERE action = 'search') THEN
        RAISE EXCEPTION 'cannot revert audit searches: search events exist';
    END IF;
END;
$$;

ALTER TABLE data_access_audit DROP CONSTRAINT data_access_audit_patient_check;
ALTER TABLE data_access_audit DROP CONSTRAINT data_access_audit_action_check;
ALTER TABLE data_access_audit ADD CONSTRAINT data_access_audit_action_check
    CHECK (action IN ('read', 'write', 'delete', 'export'));
ALTER TABLE data_access_audit ALTER COLUMN patient_id SET NOT NULL;
