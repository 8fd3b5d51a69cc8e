-- Dropping the tables drops their partitions and triggers.
DROP TABLE security_events;
DROP TABLE data_access_audit;
DROP TABLE audit_chain_heads;
DROP FUNCTION audit_create_month_partitions(date);
DROP FUNCTION audit_protect_partition(regclass);
DROP FUNCTION audit_reject_change();
