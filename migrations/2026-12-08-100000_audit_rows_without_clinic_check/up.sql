-- The foreign key from each access event to its clinic was checked for every appended row, and
-- each check locked the clinic's row in share mode from every concurrent request: about a
-- seventh of PostgreSQL's time per chart under load (BENCHMARKS.md). It guarded nothing the
-- chain does not: an event is appended only after its clinic's chain head, which keeps its
-- own foreign key, and the keyed hash of each event covers its clinic id. IF EXISTS lets a
-- benchmark database that lost the constraint by hand run this migration.
ALTER TABLE data_access_audit DROP CONSTRAINT IF EXISTS data_access_audit_clinic_id_fkey;
