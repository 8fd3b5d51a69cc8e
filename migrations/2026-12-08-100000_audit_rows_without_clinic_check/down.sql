ALTER TABLE data_access_audit
    ADD CONSTRAINT data_access_audit_clinic_id_fkey FOREIGN KEY (clinic_id) REFERENCES clinics (id);
