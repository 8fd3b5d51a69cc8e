DROP INDEX patients_user_id;
DROP TABLE compliance_notifications;
DROP TABLE emergency_access;
DROP TABLE clinic_access_settings;
