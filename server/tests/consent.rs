//! Consent storage and the consent ledger against real PostgreSQL: grants, revocation, expiry
//! at its instant, re-consent after a new version, the signature's binding to the text hash,
//! other patients' grants, append-only triggers and tamper detection.

mod support;

use app::access::policy::{AccessRequest, Decision, DenyReason, Membership, PatientFacts, decide};
use app::access::{Action, DataCategory, PermissionTable};
use app::audit::ClientInfo;
use app::consent::{
    self, ConsentError, ConsentKind, NewConsentGrant, SignatureEvidence, care_consents,
    grant_consent, revoke_consent,
};
use app::identity::Role;
use app::identity::server::accounts::{self, NewAccount};
use app::ids::{ClinicId, ConsentGrantId, ConsentVersionId, PatientId, UserId};
use app::records::{AccessContext, NewPatient, RecordKeys};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use support::TestApp;

const CARE_TEXT: &str = "I agree that my care team may use my record to coordinate my care.";

/// A clinic with an admin, a midwife, two patients and a care-coordination template.
struct Clinic {
    app: TestApp,
    conn: AsyncPgConnection,
    clinic_id: ClinicId,
    admin: UserId,
    midwife: UserId,
    patient: PatientId,
    patient_user: UserId,
    other_patient: PatientId,
    care_version: ConsentVersionId,
}

impl Clinic {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let mut conn = support::connect(&app.database.url).await;
        let clinic_id = accounts::ensure_clinic(&mut conn, "willow-clinic", "Willow Clinic")
            .await
            .unwrap();
        let admin = user(
            &app,
            &mut conn,
            clinic_id,
            "admin@willow.example",
            Role::Admin,
        )
        .await;
        let midwife = user(
            &app,
            &mut conn,
            clinic_id,
            "mia@willow.example",
            Role::Midwife,
        )
        .await;
        let patient_user = user(
            &app,
            &mut conn,
            clinic_id,
            "pat@willow.example",
            Role::Patient,
        )
        .await;

        let access = AccessContext {
            actor: midwife,
            actor_roles: vec![Role::Midwife],
            clinic_id,
            purpose: "postnatal care".to_owned(),
            emergency: false,
            client: ClientInfo::default(),
        };
        let keys = RecordKeys::from_services(&app.state.services);
        let mut patients = Vec::new();
        for (name, account) in [("Pat Example", Some(patient_user)), ("Ola Other", None)] {
            let new = NewPatient {
                user_id: account,
                full_name: format!("{name} (synthetic)"),
                date_of_birth: NaiveDate::from_ymd_opt(1993, 6, 2).unwrap(),
                address: String::new(),
                phone: String::new(),
            };
            patients.push(
                app::records::create_patient(&mut conn, keys, &access, &new)
                    .await
                    .unwrap(),
            );
        }

        let template = consent::create_template(
            &mut conn,
            clinic_id,
            ConsentKind::CareCoordination,
            "Care coordination",
            admin,
        )
        .await
        .unwrap();
        let care_version =
            consent::add_template_version(&mut conn, clinic_id, template, CARE_TEXT, admin)
                .await
                .unwrap();
        Self {
            app,
            conn,
            clinic_id,
            admin,
            midwife,
            patient: patients[0],
            patient_user,
            other_patient: patients[1],
            care_version,
        }
    }

    fn care_grant(&self, text: &str) -> NewConsentGrant {
        NewConsentGrant {
            clinic_id: self.clinic_id,
            patient_id: self.patient,
            version_id: self.care_version,
            categories: vec![DataCategory::Maternal, DataCategory::Infant],
            recipient_roles: vec![Role::Midwife],
            named_parties: Vec::new(),
            purpose: "coordinating my postnatal care".to_owned(),
            starts_at: Utc::now() - Duration::minutes(1),
            expires_at: None,
            signature: SignatureEvidence {
                signer_name: "Pat Example".to_owned(),
                credential_id: vec![7; 16],
                text_hash: consent::text_hash(text),
                assertion: r#"{"id":"synthetic"}"#.to_owned(),
            },
            witness_name: Some("Wren Witness".to_owned()),
            granted_by: self.patient_user,
        }
    }

    async fn grant(&mut self, new: &NewConsentGrant) -> Result<ConsentGrantId, ConsentError> {
        let keys = self.app.state.services.keys.clone();
        grant_consent(&mut self.conn, keys.as_ref(), new).await
    }

    async fn revoke(
        &mut self,
        patient: PatientId,
        grant: ConsentGrantId,
    ) -> Result<DateTime<Utc>, ConsentError> {
        let keys = self.app.state.services.keys.clone();
        revoke_consent(
            &mut self.conn,
            keys.as_ref(),
            self.clinic_id,
            patient,
            grant,
            self.patient_user,
            "I changed my mind",
        )
        .await
    }

    /// Decides whether the midwife, on the patient's care team, may read maternal data at `at`.
    async fn midwife_may_read(&mut self, at: DateTime<Utc>) -> Decision {
        let consents = care_consents(&mut self.conn, self.clinic_id, self.patient)
            .await
            .unwrap();
        let facts = PatientFacts {
            memberships: vec![Membership {
                user: self.midwife,
                role: Role::Midwife,
                starts_at: at - Duration::days(30),
                ends_at: None,
            }],
            consents,
            emergency_grants: Vec::new(),
        };
        let request = AccessRequest {
            user: self.midwife,
            roles: vec![Role::Midwife],
            user_clinic: self.clinic_id,
            patient: self.patient,
            patient_clinic: self.clinic_id,
            patient_user: Some(self.patient_user),
            category: DataCategory::Maternal,
            action: Action::Read,
            at,
        };
        decide(&request, &facts, &PermissionTable::default_for_clinic())
    }
}

async fn user(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    email: &str,
    role: Role,
) -> UserId {
    let services = &app.state.services;
    let account = NewAccount {
        clinic_id,
        display_name: "Synthetic Person",
        email,
        roles: &[role],
        granted_by: None,
    };
    accounts::create_user(conn, services.keys.as_ref(), &services.blind_index, account)
        .await
        .unwrap()
}

#[tokio::test]
async fn grant_admits_care_team() {
    let mut clinic = Clinic::new().await;
    let now = Utc::now();
    assert_eq!(
        clinic.midwife_may_read(now).await,
        Decision::Deny(DenyReason::NoConsent)
    );

    let grant = clinic.care_grant(CARE_TEXT);
    clinic.grant(&grant).await.unwrap();
    let consents = care_consents(&mut clinic.conn, clinic.clinic_id, clinic.patient)
        .await
        .unwrap();
    let keys = clinic.app.state.services.keys.clone();
    let listed = consent::list_patient_grants(
        &mut clinic.conn,
        keys.as_ref(),
        clinic.clinic_id,
        clinic.patient,
    )
    .await
    .unwrap();

    assert!(clinic.midwife_may_read(Utc::now()).await.is_allowed());
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0].roles, [Role::Midwife]);
    assert_eq!(
        consents[0].categories,
        [DataCategory::Maternal, DataCategory::Infant]
    );
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].signer_name, "Pat Example");
    assert_eq!(listed[0].witness_name.as_deref(), Some("Wren Witness"));
    assert_eq!(listed[0].version, 1);
}

#[tokio::test]
async fn revocation_applies_at_once() {
    let mut clinic = Clinic::new().await;
    let grant_id = clinic.grant(&clinic.care_grant(CARE_TEXT)).await.unwrap();

    let revoked_at = clinic.revoke(clinic.patient, grant_id).await.unwrap();
    let again = clinic.revoke(clinic.patient, grant_id).await;
    let consents = care_consents(&mut clinic.conn, clinic.clinic_id, clinic.patient)
        .await
        .unwrap();

    assert_eq!(consents.len(), 1, "a revoked grant is still returned");
    assert_eq!(consents[0].revoked_at, Some(revoked_at));
    assert!(
        clinic
            .midwife_may_read(revoked_at - Duration::microseconds(1))
            .await
            .is_allowed()
    );
    assert_eq!(
        clinic.midwife_may_read(revoked_at).await,
        Decision::Deny(DenyReason::NoConsent)
    );
    assert!(matches!(again, Err(ConsentError::Conflict(_))), "{again:?}");
}

#[tokio::test]
async fn expiry_applies_at_its_instant() {
    let mut clinic = Clinic::new().await;
    let expires_at = Utc::now() + Duration::hours(1);
    let expires_at = DateTime::from_timestamp_micros(expires_at.timestamp_micros()).unwrap();
    let mut grant = clinic.care_grant(CARE_TEXT);
    grant.expires_at = Some(expires_at);
    clinic.grant(&grant).await.unwrap();

    let before = clinic
        .midwife_may_read(expires_at - Duration::microseconds(1))
        .await;
    let at_expiry = clinic.midwife_may_read(expires_at).await;
    let recorded_early = consent::record_expiries(&mut clinic.conn, None, Utc::now())
        .await
        .unwrap();
    let recorded = consent::record_expiries(&mut clinic.conn, None, expires_at)
        .await
        .unwrap();
    let recorded_twice = consent::record_expiries(&mut clinic.conn, None, expires_at)
        .await
        .unwrap();
    let report = consent::verify_ledger(&mut clinic.conn).await.unwrap();

    assert!(before.is_allowed());
    assert_eq!(at_expiry, Decision::Deny(DenyReason::NoConsent));
    assert_eq!(recorded_early, 0);
    assert_eq!(recorded, 1);
    assert_eq!(recorded_twice, 0);
    assert!(report.is_intact(), "{:?}", report.first_break());
}

#[tokio::test]
async fn new_version_needs_reconsent() {
    let mut clinic = Clinic::new().await;
    clinic.grant(&clinic.care_grant(CARE_TEXT)).await.unwrap();
    let template = consent::find_version(&mut clinic.conn, clinic.clinic_id, clinic.care_version)
        .await
        .unwrap()
        .template_id;
    let new_text = "I agree that my care team, including its new members, may use my record.";
    let (clinic_id, admin) = (clinic.clinic_id, clinic.admin);
    let second =
        consent::add_template_version(&mut clinic.conn, clinic_id, template, new_text, admin)
            .await
            .unwrap();

    let stale = clinic.grant(&clinic.care_grant(CARE_TEXT)).await;
    let current = consent::current_versions(&mut clinic.conn, clinic.clinic_id)
        .await
        .unwrap();
    let old_still_applies = clinic.midwife_may_read(Utc::now()).await;
    let mut renewed = clinic.care_grant(new_text);
    renewed.version_id = second;
    clinic.grant(&renewed).await.unwrap();

    assert!(matches!(stale, Err(ConsentError::Conflict(_))), "{stale:?}");
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id, second);
    assert_eq!(current[0].version, 2);
    assert!(old_still_applies.is_allowed());
    assert_eq!(
        care_consents(&mut clinic.conn, clinic.clinic_id, clinic.patient)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn signature_over_other_text_rejected() {
    let mut clinic = Clinic::new().await;

    let result = clinic
        .grant(&clinic.care_grant("Some other consent text."))
        .await;
    let consents = care_consents(&mut clinic.conn, clinic.clinic_id, clinic.patient)
        .await
        .unwrap();

    assert!(
        matches!(result, Err(ConsentError::SignatureMismatch)),
        "{result:?}"
    );
    assert!(consents.is_empty());
}

#[tokio::test]
async fn other_patients_grant_not_found() {
    let mut clinic = Clinic::new().await;
    let grant_id = clinic.grant(&clinic.care_grant(CARE_TEXT)).await.unwrap();

    let result = clinic.revoke(clinic.other_patient, grant_id).await;
    let consents = care_consents(&mut clinic.conn, clinic.clinic_id, clinic.patient)
        .await
        .unwrap();

    assert!(matches!(result, Err(ConsentError::NotFound)), "{result:?}");
    assert_eq!(consents[0].revoked_at, None);
}

#[tokio::test]
async fn scope_must_fit_template_kind() {
    let mut clinic = Clinic::new().await;
    let mut admin_role = clinic.care_grant(CARE_TEXT);
    admin_role.recipient_roles = vec![Role::Admin];
    let mut no_categories = clinic.care_grant(CARE_TEXT);
    no_categories.categories.clear();
    let mut backwards = clinic.care_grant(CARE_TEXT);
    backwards.expires_at = Some(backwards.starts_at);

    for grant in [admin_role, no_categories, backwards] {
        let result = clinic.grant(&grant).await;
        assert!(
            matches!(result, Err(ConsentError::InvalidInput(_))),
            "{result:?}"
        );
    }
    assert!(
        care_consents(&mut clinic.conn, clinic.clinic_id, clinic.patient)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn ledger_rejects_update_and_delete() {
    let mut clinic = Clinic::new().await;
    let grant_id = clinic.grant(&clinic.care_grant(CARE_TEXT)).await.unwrap();

    let statements = [
        "UPDATE consent_ledger SET event = 'revoked'".to_owned(),
        "DELETE FROM consent_ledger".to_owned(),
        "TRUNCATE consent_ledger".to_owned(),
        format!(
            "UPDATE consent_grants SET purpose = 'research' WHERE id = '{}'",
            grant_id.0
        ),
        format!("DELETE FROM consent_grants WHERE id = '{}'", grant_id.0),
        "UPDATE consent_template_versions SET body = 'changed'".to_owned(),
    ];
    for statement in statements {
        let error = diesel::sql_query(&statement)
            .execute(&mut clinic.conn)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("not allowed")
                || error.to_string().contains("only be revoked"),
            "{statement}: {error}"
        );
    }
}

/// Runs `statement` as a superuser with triggers disabled for the session.
async fn tamper(superuser: &mut AsyncPgConnection, statement: &str) {
    diesel::sql_query("SET session_replication_role = replica")
        .execute(superuser)
        .await
        .unwrap();
    let changed = diesel::sql_query(statement)
        .execute(superuser)
        .await
        .unwrap();
    assert_eq!(changed, 1, "{statement}");
}

#[tokio::test]
async fn tampering_detected_by_verify() {
    let mut clinic = Clinic::new().await;
    let first = clinic.grant(&clinic.care_grant(CARE_TEXT)).await.unwrap();
    clinic.revoke(clinic.patient, first).await.unwrap();
    let second = clinic.grant(&clinic.care_grant(CARE_TEXT)).await.unwrap();
    let intact = consent::verify_ledger(&mut clinic.conn).await.unwrap();
    let Some(mut superuser) = support::superuser_connect(&clinic.app.database.url).await else {
        return;
    };

    tamper(
        &mut superuser,
        &format!(
            "UPDATE consent_grants SET data_categories = '{{maternal,infant,mental_health}}' WHERE id = '{}'",
            second.0
        ),
    )
    .await;
    support::close_superuser(superuser, &mut clinic.conn).await;
    let report = consent::verify_ledger(&mut clinic.conn).await.unwrap();
    let patient_report =
        consent::verify_patient_ledger(&mut clinic.conn, clinic.clinic_id, clinic.patient)
            .await
            .unwrap();

    assert!(intact.is_intact(), "{:?}", intact.first_break());
    let broken = report.first_break().expect("the edit was not detected");
    assert_eq!(broken.sequence, 3);
    assert_eq!(broken.reason, "grant does not match its recorded digest");
    assert_eq!(
        report.breaks.len(),
        2,
        "both the patient's and the clinic's chain break"
    );
    assert_eq!(patient_report.breaks.len(), 1);
}

#[tokio::test]
async fn deleted_entry_detected_by_verify() {
    let mut clinic = Clinic::new().await;
    let first = clinic.grant(&clinic.care_grant(CARE_TEXT)).await.unwrap();
    clinic.revoke(clinic.patient, first).await.unwrap();
    clinic.grant(&clinic.care_grant(CARE_TEXT)).await.unwrap();
    let Some(mut superuser) = support::superuser_connect(&clinic.app.database.url).await else {
        return;
    };

    tamper(
        &mut superuser,
        "DELETE FROM consent_ledger WHERE event = 'revoked'",
    )
    .await;
    support::close_superuser(superuser, &mut clinic.conn).await;
    let report = consent::verify_ledger(&mut clinic.conn).await.unwrap();

    let broken = report.first_break().expect("the deletion was not detected");
    assert_eq!(broken.sequence, 2);
    assert_eq!(broken.reason, "sequence gap or duplicate");
}
