DROP INDEX observations_id;
DROP INDEX clinical_entries_id;
DROP TABLE compliance_notifications;
DROP TABLE emergency_access;
DROP TABLE clinic_access_settings;
