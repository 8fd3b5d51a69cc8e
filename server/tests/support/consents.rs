//! Care-coordination and data-sharing consents in each state the authorization matrix needs,
//! stored through `app::consent`.

use app::access::DataCategory;
use app::consent::{self, ConsentKind, NewConsentGrant, SignatureEvidence};
use app::crypto::KeyProvider;
use app::identity::Role;
use app::ids::{ConsentGrantId, PatientId, UserId};
use chrono::{DateTime, Duration, Utc};
use diesel::QueryableByName;
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::TestApp;
use super::matrix::Consent;

const CARE_TEXT: &str = "I agree that my care team may use my record to coordinate my care.";
const SHARING_TEXT: &str = "I agree that my care team may share my record with the parties I name.";

/// The party that every data-sharing consent of the matrix names.
pub const SHARING_RECIPIENT: &str = "Harbour Health Visiting Service (synthetic)";

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
    let scope = Scope {
        kind: ConsentKind::CareCoordination,
        text: CARE_TEXT,
        categories: DataCategory::ALL.to_vec(),
        recipient_roles: Role::ALL
            .into_iter()
            .filter(|role| role.may_invite_patients())
            .collect(),
        named_parties: Vec::new(),
    };
    set_state(conn, keys, patient, scope, state).await;
}

/// Puts the patient's data-sharing consent in `state`, naming [`SHARING_RECIPIENT`] for every
/// category, like [`set_consent`].
pub async fn set_sharing_consent(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    patient: PatientId,
    state: Consent,
) {
    let keys = app.state.services.keys.clone();
    let scope = sharing_scope(SHARING_RECIPIENT, DataCategory::ALL.to_vec());
    set_state(conn, keys.as_ref(), patient, scope, state).await;
}

/// What a consent grants.
pub struct Scope {
    pub kind: ConsentKind,
    pub text: &'static str,
    pub categories: Vec<DataCategory>,
    pub recipient_roles: Vec<Role>,
    pub named_parties: Vec<String>,
}

/// Returns the scope of a data-sharing consent that names `recipient` for `categories`.
pub fn sharing_scope(recipient: &str, categories: Vec<DataCategory>) -> Scope {
    Scope {
        kind: ConsentKind::DataSharing,
        text: SHARING_TEXT,
        categories,
        recipient_roles: Vec::new(),
        named_parties: vec![recipient.to_owned()],
    }
}

async fn set_state(
    conn: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    patient: PatientId,
    scope: Scope,
    state: Consent,
) {
    if state == Consent::Never {
        return;
    }
    let now = Utc::now();
    let expires_at = (state == Consent::Expired).then(|| now - Duration::days(1));
    let grant = grant(
        conn,
        keys,
        patient,
        scope,
        now - Duration::days(30),
        expires_at,
    )
    .await;
    if state == Consent::Revoked {
        revoke(conn, keys, patient, grant).await;
    }
}

/// Stores a signed grant of `scope` for the patient from `starts_at` until `expires_at`.
pub async fn grant(
    conn: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    patient: PatientId,
    scope: Scope,
    starts_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> ConsentGrantId {
    let owner = app::records::patient_owner(conn, patient)
        .await
        .unwrap()
        .expect("the patient exists");
    let signer = any_user(conn).await;
    let template = consent::create_template(conn, owner.clinic, scope.kind, "Test consent", signer)
        .await
        .unwrap();
    let version = consent::add_template_version(conn, owner.clinic, template, scope.text, signer)
        .await
        .unwrap();
    let grant = NewConsentGrant {
        clinic_id: owner.clinic,
        patient_id: patient,
        version_id: version,
        categories: scope.categories,
        recipient_roles: scope.recipient_roles,
        named_parties: scope.named_parties,
        purpose: "coordinating my postnatal care".to_owned(),
        starts_at,
        expires_at,
        signature: SignatureEvidence {
            signer_name: "Synthetic Signer".to_owned(),
            credential_id: vec![7; 16],
            text_hash: consent::text_hash(scope.text),
            assertion: r#"{"id":"synthetic"}"#.to_owned(),
        },
        witness_name: None,
        granted_by: owner.user.unwrap_or(signer),
    };
    consent::grant_consent(conn, keys, &grant).await.unwrap()
}

/// Revokes a grant of the patient now.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    patient: PatientId,
    grant: ConsentGrantId,
) {
    let owner = app::records::patient_owner(conn, patient)
        .await
        .unwrap()
        .expect("the patient exists");
    let revoker = owner.user.unwrap_or(any_user(conn).await);
    consent::revoke_consent(
        conn,
        keys,
        owner.clinic,
        patient,
        grant,
        revoker,
        "I changed my mind",
    )
    .await
    .unwrap();
}
