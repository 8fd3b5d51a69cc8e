-- Dropping a partitioned table drops its partitions.
DROP TABLE clinical_notes;
DROP TABLE appointments;
DROP TABLE observations;
DROP TABLE clinical_entries;
DROP TABLE care_team_members;
DROP TABLE infants;
DROP TABLE patient_name_tokens;
DROP TABLE patients;
DROP INDEX users_kek_version_idx;
DROP FUNCTION records_create_hash_partitions(regclass, integer);
