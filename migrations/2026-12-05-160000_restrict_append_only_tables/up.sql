-- The runtime role may only add to the consent history, to the record of protocol firings and
-- to task histories. Triggers already reject changes to the consent tables; without UPDATE and
-- DELETE the runtime role also cannot attempt them. Consent grants keep the UPDATE privilege,
-- because revocation and expiry lock a grant with SELECT ... FOR UPDATE, which PostgreSQL
-- allows only with it; their trigger still rejects every change.
REVOKE UPDATE, DELETE, TRUNCATE ON
    consent_template_versions, consent_signatures, consent_revocations, consent_ledger,
    protocol_firings, care_task_history
FROM nurture_runtime;
REVOKE DELETE, TRUNCATE ON consent_grants FROM nurture_runtime;
