//! Diesel table definitions, matching `migrations/`.

diesel::table! {
    clinics (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        status -> Text,
        data_key_wrapped -> Bytea,
        data_key_kek_version -> Int4,
        display_name_ciphertext -> Bytea,
        email_ciphertext -> Bytea,
        email_index -> Bytea,
        created_at -> Timestamptz,
        deactivated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    role_assignments (user_id, clinic_id, role) {
        user_id -> Uuid,
        clinic_id -> Uuid,
        role -> Text,
        granted_at -> Timestamptz,
        granted_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Uuid,
        user_id -> Uuid,
        credential_id -> Bytea,
        credential -> Jsonb,
        name -> Text,
        sign_count -> Int8,
        backup_eligible -> Bool,
        backup_state -> Bool,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        user_id -> Uuid,
        purpose -> Text,
        token_hash -> Bytea,
        roles -> Array<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webauthn_ceremonies (id) {
        id -> Uuid,
        kind -> Text,
        user_id -> Nullable<Uuid>,
        invitation_id -> Nullable<Uuid>,
        session_id -> Nullable<Text>,
        state -> Jsonb,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        data -> Jsonb,
        expires_at -> Timestamptz,
        user_id -> Nullable<Uuid>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
    }
}

diesel::table! {
    rate_limits (bucket) {
        bucket -> Text,
        window_started_at -> Timestamptz,
        hits -> Int4,
    }
}

diesel::joinable!(users -> clinics (clinic_id));
diesel::joinable!(role_assignments -> users (user_id));
diesel::joinable!(passkeys -> users (user_id));
diesel::joinable!(invitations -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    clinics,
    users,
    role_assignments,
    passkeys,
    invitations,
    webauthn_ceremonies,
    sessions,
    rate_limits,
);
