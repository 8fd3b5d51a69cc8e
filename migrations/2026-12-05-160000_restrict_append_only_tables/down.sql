GRANT UPDATE, DELETE ON
    consent_template_versions, consent_signatures, consent_revocations, consent_ledger,
    protocol_firings, care_task_history
TO nurture_runtime;
GRANT DELETE ON consent_grants TO nurture_runtime;
