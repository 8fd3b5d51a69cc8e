DROP TABLE consent_ledger;
DROP TABLE consent_chain_heads;
DROP TABLE consent_revocations;
DROP TABLE consent_signatures;
DROP TABLE consent_grants;
DROP TABLE consent_template_versions;
DROP TABLE consent_templates;
DROP FUNCTION consent_reject_change();
