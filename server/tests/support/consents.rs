//! Care consents in each state the authorization matrix needs, stored through `app::consent`.

use app::access::DataCategory;
use app::consent::{self, ConsentKind, NewConsentGrant, SignatureEvidence};
use app::crypto::KeyProvider;
use app::identity::Role;
use app::ids::{PatientId, UserId};
use chrono::{Duration, Utc};
use diesel::QueryableByName;
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::TestApp;
use super::matrix::Consent;

const CARE_TEXT: &str = "I agree that my care team may use my record to coordinate my care.";

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
}

/// Returns the oldest user, who signs the test consents' templates and grants.
async fn any_user(conn: &mut AsyncPgConnection) -> UserId {
    let found: Found = diesel::sql_query("SELECT id FROM users ORDER BY created_at, id LIMIT 1")
        .get_result(conn)
        .await
        .expect("a consent needs at least one user in the database");
    UserId(found.id)
}

/// Puts the patient's care-coordination consent in `state`. A granted consent covers every
/// data category for every care-team role; a revoked one was revoked a moment ago; an expired
/// one ended yesterday.
pub async fn set_consent(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    patient: PatientId,
    state: Consent,
) {
    let keys = app.state.services.keys.clone();
    set_consent_with_keys(conn, keys.as_ref(), patient, state).await;
}

/// [`set_consent`] for a patient whose data key is wrapped by `keys`.
pub async fn set_consent_with_keys(
    conn: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    patient: PatientId,
    state: Consent,
) {
    if state == Consent::Never {
        return;
    }
    let owner = app::records::patient_owner(conn, patient)
        .await
        .unwrap()
        .expect("the patient exists");
    let signer = any_user(conn).await;
    let template = consent::create_template(
        conn,
        owner.clinic,
        ConsentKind::CareCoordination,
        "Care coordination",
        signer,
    )
    .await
    .unwrap();
    let version = consent::add_template_version(conn, owner.clinic, template, CARE_TEXT, signer)
        .await
        .unwrap();

    let now = Utc::now();
    let (starts_at, expires_at) = match state {
        Consent::Expired => (now - Duration::days(30), Some(now - Duration::days(1))),
        _ => (now - Duration::days(30), None),
    };
    let grant = NewConsentGrant {
        clinic_id: owner.clinic,
        patient_id: patient,
        version_id: version,
        categories: DataCategory::ALL.to_vec(),
        recipient_roles: Role::ALL
            .into_iter()
            .filter(|role| role.may_invite_patients())
            .collect(),
        named_parties: Vec::new(),
        purpose: "coordinating my postnatal care".to_owned(),
        starts_at,
        expires_at,
        signature: SignatureEvidence {
            signer_name: "Synthetic Signer".to_owned(),
            credential_id: vec![7; 16],
            text_hash: consent::text_hash(CARE_TEXT),
            assertion: r#"{"id":"synthetic"}"#.to_owned(),
        },
        witness_name: None,
        granted_by: owner.user.unwrap_or(signer),
    };
    let id = consent::grant_consent(conn, keys, &grant).await.unwrap();
    if state == Consent::Revoked {
        consent::revoke_consent(
            conn,
            keys,
            owner.clinic,
            patient,
            id,
            grant.granted_by,
            "I changed my mind",
        )
        .await
        .unwrap();
    }
}
