//! Diesel definitions of the record tables, matching `migrations/`.
//!
//! This module is private to `records`, so no other code can select or write an encrypted
//! column: every access goes through the audited functions of this module.

diesel::table! {
    patients (clinic_id, id) {
        id -> Uuid,
        clinic_id -> Uuid,
        user_id -> Nullable<Uuid>,
        data_key_wrapped -> Nullable<Bytea>,
        data_key_kek_version -> Nullable<Int4>,
        data_key_version -> Int4,
        full_name_ciphertext -> Bytea,
        date_of_birth_ciphertext -> Bytea,
        address_ciphertext -> Bytea,
        phone_ciphertext -> Bytea,
        date_of_birth_index -> Nullable<Bytea>,
        created_at -> Timestamptz,
        erased_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    patient_name_tokens (clinic_id, token_index, patient_id) {
        clinic_id -> Uuid,
        patient_id -> Uuid,
        token_index -> Bytea,
    }
}

diesel::table! {
    infants (clinic_id, id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        data_key_version -> Int4,
        name_ciphertext -> Bytea,
        birth_date_ciphertext -> Bytea,
        birth_weight_ciphertext -> Bytea,
        sex_ciphertext -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    care_team_members (clinic_id, id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        provider_user_id -> Uuid,
        role -> Text,
        starts_at -> Timestamptz,
        ends_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    clinical_entries (clinic_id, id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        infant_id -> Nullable<Uuid>,
        classification -> Text,
        author_user_id -> Uuid,
        recorded_at -> Timestamptz,
        entry_type -> Text,
        data_key_version -> Int4,
        payload_ciphertext -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    observations (clinic_id, id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        infant_id -> Nullable<Uuid>,
        kind -> Text,
        observed_at -> Timestamptz,
        author_user_id -> Uuid,
        data_key_version -> Int4,
        value_ciphertext -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    appointments (clinic_id, id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        clinician_user_id -> Uuid,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        kind -> Text,
        status -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    clinical_notes (clinic_id, id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        classification -> Text,
        author_user_id -> Uuid,
        written_at -> Timestamptz,
        data_key_version -> Int4,
        body_ciphertext -> Bytea,
    }
}

diesel::table! {
    message_threads (clinic_id, id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        classification -> Text,
        data_key_version -> Int4,
        subject_ciphertext -> Bytea,
        created_by -> Uuid,
        created_at -> Timestamptz,
        message_count -> Int8,
    }
}

diesel::table! {
    message_participants (clinic_id, thread_id, user_id) {
        clinic_id -> Uuid,
        thread_id -> Uuid,
        user_id -> Uuid,
        read_through -> Int8,
    }
}

diesel::table! {
    messages (clinic_id, id) {
        id -> Uuid,
        clinic_id -> Uuid,
        thread_id -> Uuid,
        sequence -> Int8,
        sender_user_id -> Uuid,
        sent_at -> Timestamptz,
        data_key_version -> Int4,
        body_ciphertext -> Bytea,
    }
}

diesel::allow_tables_to_appear_in_same_query!(message_threads, message_participants);
