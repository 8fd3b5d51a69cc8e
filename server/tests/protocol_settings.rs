//! The care-protocol settings server functions through the real router: who may read and
//! change the thresholds, input checks, the audit event of a change, and a changed threshold
//! deciding the next observation with its version recorded on the firing.

mod support;

use app::identity::Role;
use app::ids::{ClinicId, PatientId, UserId};
use app::records::NewCareTeamMember;
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use support::TestApp;
use support::matrix::{Consent, import};
use support::personas::{Persona, call_as, call_json_as, persona};

/// EPDS answer positions with a total of 11 and item 10 answered "Never": items 1, 2 and 4
/// score their position (3 each), item 3 scores 3 minus its position (2), the rest score 0.
const EPDS_TOTAL_11: &str = "[3,3,1,3,3,3,3,3,3,3]";

/// A clinic with an admin, a midwife and a patient whose care team has a mental health
/// specialist, so that an EPDS referral has an owner.
struct Clinic {
    app: TestApp,
    conn: AsyncPgConnection,
    clinic: ClinicId,
    admin: Persona,
    midwife: Persona,
    patient: Persona,
    patient_id: PatientId,
}

impl Clinic {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let mut conn = support::connect(&app.database.url).await;
        let clinic = support::create_clinic(&mut conn, "cedar").await;
        let mut people = Vec::new();
        for (name, role) in [
            ("Synthetic Admin", Role::Admin),
            ("Synthetic Midwife", Role::Midwife),
            ("Synthetic Specialist", Role::MentalHealthSpecialist),
            ("Synthetic Mother", Role::Patient),
        ] {
            people.push(persona(&app, &mut conn, clinic, name, &[role], 0).await);
        }
        let Ok([admin, midwife, specialist, patient]) = <[Persona; 4]>::try_from(people) else {
            unreachable!("four personas were created")
        };
        let team = vec![NewCareTeamMember {
            provider: specialist.user,
            role: Role::MentalHealthSpecialist,
            starts_at: Utc::now() - Duration::days(30),
            ends_at: None,
        }];
        let patient_id = import(
            &app,
            &mut conn,
            clinic,
            midwife.user,
            Some(patient.user),
            team,
        )
        .await;
        support::consents::set_consent(&app, &mut conn, patient_id, Consent::Granted).await;
        Self {
            app,
            conn,
            clinic,
            admin,
            midwife,
            patient,
            patient_id,
        }
    }

    async fn call(
        &self,
        who: &Persona,
        endpoint: &str,
        arguments: &[(&str, String)],
    ) -> (StatusCode, Value) {
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        call_as(
            &self.app.router,
            &who.cookie,
            endpoint,
            arguments,
            &request_id,
        )
        .await
    }

    async fn update(&self, who: &Persona, thresholds: &Value) -> (StatusCode, Value) {
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        let body = json!({ "thresholds": thresholds });
        call_json_as(
            &self.app.router,
            &who.cookie,
            "protocols/settings/update",
            &body,
            &request_id,
        )
        .await
    }

    /// Submits an EPDS check-in with a total of 11 as the patient.
    async fn check_in(&self) {
        let arguments = [
            ("instrument", "epds".to_owned()),
            ("answers", EPDS_TOTAL_11.to_owned()),
        ];
        let (status, body) = self
            .call(&self.patient, "portal/check-in", &arguments)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Returns the EPDS referral firings of the patient as (settings version, threshold),
    /// oldest first.
    async fn referrals(&mut self) -> Vec<(i32, String)> {
        #[derive(QueryableByName)]
        struct Firing {
            #[diesel(sql_type = Integer)]
            settings_version: i32,
            #[diesel(sql_type = Text)]
            threshold: String,
        }
        let rows: Vec<Firing> = diesel::sql_query(
            "SELECT settings_version, threshold FROM protocol_firings \
             WHERE patient_id = $1 AND rule = 'epds_referral' ORDER BY fired_at",
        )
        .bind::<diesel::sql_types::Uuid, _>(self.patient_id.0)
        .load(&mut self.conn)
        .await
        .unwrap();
        rows.into_iter()
            .map(|row| (row.settings_version, row.threshold))
            .collect()
    }

    async fn count(&mut self, statement: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            count: i64,
        }
        let row: Count = diesel::sql_query(statement)
            .bind::<diesel::sql_types::Uuid, _>(self.clinic.0)
            .get_result(&mut self.conn)
            .await
            .unwrap();
        row.count
    }

    async fn stored_versions(&mut self) -> i64 {
        self.count("SELECT count(*) AS count FROM protocol_settings WHERE clinic_id = $1")
            .await
    }

    async fn change_events(&mut self) -> i64 {
        self.count(
            "SELECT count(*) AS count FROM security_events \
             WHERE clinic_id = $1 AND kind = 'protocol_settings_changed'",
        )
        .await
    }
}

/// Returns the built-in defaults as the form sends them.
fn defaults() -> Value {
    json!({
        "epds_possible_depression": 10,
        "epds_probable_depression": 13,
        "raised_systolic_mmhg": 140,
        "raised_diastolic_mmhg": 90,
        "severe_systolic_mmhg": 160,
        "severe_diastolic_mmhg": 110,
        "fever_celsius": 38.0,
        "underweight_z_score": -2.0,
        "weight_loss_percent": 10,
        "weight_loss_window_days": 14,
    })
}

fn with(field: &str, value: Value) -> Value {
    let mut thresholds = defaults();
    thresholds[field] = value;
    thresholds
}

#[tokio::test]
async fn lowered_epds_threshold_fires_with_new_version() {
    let mut clinic = Clinic::new().await;
    let (status, view) = clinic.call(&clinic.admin, "protocols/settings", &[]).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["current"]["version"], 0);
    assert_eq!(view["current"]["thresholds"], defaults());
    assert_eq!(view["may_change"], true);

    clinic.check_in().await;
    assert!(
        clinic.referrals().await.is_empty(),
        "a total of 11 is below the default referral cut-off of 13"
    );

    let (status, view) = clinic
        .update(&clinic.admin, &with("epds_probable_depression", json!(11)))
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["current"]["version"], 1);
    assert_eq!(
        view["current"]["thresholds"]["epds_probable_depression"],
        11
    );
    assert_eq!(view["current"]["changed_by"], "Synthetic Admin");
    assert!(view["current"]["changed_at"].is_string());
    assert_eq!(view["history"].as_array().unwrap().len(), 1);

    clinic.check_in().await;
    assert_eq!(
        clinic.referrals().await,
        vec![(1, "EPDS total >= 11".to_owned())],
        "the next check-in fires at the new cut-off and records version 1"
    );
}

#[tokio::test]
async fn change_is_audited_once() {
    let mut clinic = Clinic::new().await;
    let thresholds = with("severe_systolic_mmhg", json!(155));
    let (status, body) = clinic.update(&clinic.admin, &thresholds).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = clinic.update(&clinic.admin, &thresholds).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    assert_eq!(
        clinic.stored_versions().await,
        1,
        "unchanged thresholds store nothing"
    );
    assert_eq!(clinic.change_events().await, 1);
    #[derive(QueryableByName)]
    struct Event {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
        actor_user_id: Option<uuid::Uuid>,
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        detail: Value,
    }
    let event: Event = diesel::sql_query(
        "SELECT actor_user_id, detail FROM security_events WHERE kind = 'protocol_settings_changed'",
    )
    .get_result(&mut clinic.conn)
    .await
    .unwrap();
    assert_eq!(event.actor_user_id.map(UserId), Some(clinic.admin.user));
    assert_eq!(event.detail["version"], 1);
    assert_eq!(event.detail["previous_version"], 0);
    assert_eq!(
        event.detail["settings"]["vitals"]["blood_pressure"]["severe_systolic"],
        155
    );
}

#[tokio::test]
async fn only_admins_change_thresholds() {
    let mut clinic = Clinic::new().await;
    let thresholds = with("epds_probable_depression", json!(12));

    let (status, view) = clinic
        .call(&clinic.midwife, "protocols/settings", &[])
        .await;
    assert_eq!(status, StatusCode::OK, "clinicians may read: {view}");
    assert_eq!(view["may_change"], false);
    let (status, _) = clinic.update(&clinic.midwife, &thresholds).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = clinic
        .call(&clinic.patient, "protocols/settings", &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "patients may not read");
    let (status, _) = clinic.update(&clinic.patient, &thresholds).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let stale = persona(
        &clinic.app,
        &mut clinic.conn,
        clinic.clinic,
        "Stale Admin",
        &[Role::Admin],
        3600,
    )
    .await;
    let (status, _) = clinic.update(&stale, &thresholds).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a change needs a recent step-up"
    );

    assert_eq!(clinic.stored_versions().await, 0);
    assert_eq!(clinic.change_events().await, 0);
}

#[tokio::test]
async fn invalid_thresholds_rejected() {
    let mut clinic = Clinic::new().await;
    let cases = [
        ("epds_probable_depression", json!(31), "0 to 30"),
        ("epds_probable_depression", json!(-1), "0 to 30"),
        ("epds_possible_depression", json!(13), "must be below"),
        ("severe_systolic_mmhg", json!(140), "must be below"),
        ("severe_diastolic_mmhg", json!(85), "must be below"),
        ("raised_systolic_mmhg", json!(400), "50 to 300"),
        ("raised_diastolic_mmhg", json!(10), "20 to 200"),
        ("fever_celsius", json!(100.4), "37 to 40"),
        ("underweight_z_score", json!(1.0), "-4 to 0"),
        ("weight_loss_percent", json!(0), "1 to 30"),
        ("weight_loss_window_days", json!(60), "1 to 28"),
    ];
    for (field, value, expected) in cases {
        let (status, body) = clinic
            .update(&clinic.admin, &with(field, value.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field} = {value}: {body}");
        let message = body.to_string();
        assert!(message.contains(expected), "{field} = {value}: {message}");
    }

    let mut missing = defaults();
    missing.as_object_mut().unwrap().remove("fever_celsius");
    let (status, _) = clinic.update(&clinic.admin, &missing).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a missing threshold");

    assert_eq!(clinic.stored_versions().await, 0);
    assert_eq!(clinic.change_events().await, 0);
    let (_, view) = clinic.call(&clinic.admin, "protocols/settings", &[]).await;
    assert_eq!(view["current"]["version"], 0);
}
