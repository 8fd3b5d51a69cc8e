//! Diesel definitions of the consent tables, matching `migrations/`.
//!
//! Private to `consent`, so that grants, signatures and revocations are written only through the
//! functions that also append to the ledger.

diesel::table! {
    consent_templates (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        kind -> Text,
        title -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    consent_template_versions (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        template_id -> Uuid,
        version -> Int4,
        body -> Text,
        text_hash -> Bytea,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    consent_grants (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        template_version_id -> Uuid,
        data_categories -> Array<Text>,
        recipient_roles -> Array<Text>,
        named_parties -> Array<Text>,
        purpose -> Text,
        starts_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        granted_by -> Uuid,
        granted_at -> Timestamptz,
    }
}

diesel::table! {
    consent_signatures (grant_id) {
        grant_id -> Uuid,
        data_key_version -> Int4,
        signer_name_ciphertext -> Bytea,
        witness_name_ciphertext -> Nullable<Bytea>,
        credential_id -> Bytea,
        signed_text_hash -> Bytea,
        assertion -> Text,
    }
}

diesel::table! {
    consent_revocations (grant_id) {
        grant_id -> Uuid,
        revoked_at -> Timestamptz,
        revoked_by -> Uuid,
        data_key_version -> Int4,
        reason_ciphertext -> Bytea,
    }
}

diesel::table! {
    consent_chain_heads (scope, owner_id) {
        scope -> Text,
        owner_id -> Uuid,
        last_sequence -> Int8,
        last_hash -> Bytea,
    }
}

diesel::table! {
    consent_ledger (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        grant_id -> Uuid,
        event -> Text,
        effective_at -> Timestamptz,
        recorded_at -> Timestamptz,
        grant_digest -> Bytea,
        patient_sequence -> Int8,
        patient_prev_hash -> Bytea,
        clinic_sequence -> Int8,
        clinic_prev_hash -> Bytea,
        hash -> Bytea,
    }
}

diesel::joinable!(consent_template_versions -> consent_templates (template_id));
diesel::joinable!(consent_grants -> consent_template_versions (template_version_id));
diesel::joinable!(consent_signatures -> consent_grants (grant_id));
diesel::joinable!(consent_revocations -> consent_grants (grant_id));

diesel::allow_tables_to_appear_in_same_query!(
    consent_templates,
    consent_template_versions,
    consent_grants,
    consent_signatures,
    consent_revocations,
    consent_ledger,
);

diesel::table! {
    consent_signature_ceremonies (id) {
        id -> Uuid,
        user_id -> Uuid,
        version_id -> Uuid,
        nonce -> Bytea,
        state -> Jsonb,
        expires_at -> Timestamptz,
    }
}
