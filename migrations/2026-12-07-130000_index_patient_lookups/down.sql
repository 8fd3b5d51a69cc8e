DROP INDEX IF EXISTS patients_user_idx;
DROP INDEX IF EXISTS patients_id_idx;
