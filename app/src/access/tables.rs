//! Diesel definitions of the access tables, matching `migrations/`.

diesel::table! {
    clinic_access_settings (clinic_id) {
        clinic_id -> Uuid,
        permissions -> Jsonb,
        auto_grant_critical -> Bool,
        emergency_grant_minutes -> Int4,
        updated_at -> Timestamptz,
        updated_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    emergency_access (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        patient_id -> Uuid,
        requester_user_id -> Uuid,
        level -> Text,
        justification -> Text,
        status -> Text,
        requested_at -> Timestamptz,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        decision_reason -> Nullable<Text>,
        granted_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
        reviewed_by -> Nullable<Uuid>,
        reviewed_at -> Nullable<Timestamptz>,
        review_note -> Nullable<Text>,
    }
}

diesel::table! {
    compliance_notifications (id) {
        id -> Uuid,
        clinic_id -> Uuid,
        emergency_access_id -> Uuid,
        kind -> Text,
        created_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(emergency_access, compliance_notifications);
