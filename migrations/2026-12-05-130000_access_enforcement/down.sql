DROP TABLE compliance_notifications;
DROP TABLE emergency_access;
DROP TABLE clinic_access_settings;
