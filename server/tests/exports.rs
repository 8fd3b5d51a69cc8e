//! Data-sharing exports through the real router: the happy path releases exactly the permitted
//! categories of one patient, and a consent revoked or expired while an export is in flight
//! stops it, whether it is still queued or already built.

mod support;

use app::access::{Actor, DataCategory};
use app::audit::ClientInfo;
use app::exports::{ExportStatus, build_export_at, release_export_at};
use app::identity::Role;
use app::identity::server::accounts;
use app::ids::{ClinicId, ConsentGrantId, ExportId, PatientId};
use app::records::{NewCareTeamMember, RecordKeys};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Bool, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use support::TestApp;
use support::consents::{self, sharing_scope};
use support::matrix::{Consent, import};
use support::personas::{Persona, call_as, persona};

const RECIPIENT: &str = "Ridge Perinatal Clinic (synthetic)";
const NOT_FOUND: &str = "Not found, or you do not have access to it.";

/// A clinic with a GP, a patient on her care team who has a portal account and consents to
/// care coordination, and a second patient with the same kind of record.
struct Setup {
    app: TestApp,
    gp: Persona,
    mother: Persona,
    patient: PatientId,
    other_patient: PatientId,
    conn: AsyncPgConnection,
}

impl Setup {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let mut conn = support::connect(&app.database.url).await;
        let clinic = accounts::ensure_clinic(&mut conn, "harbour", "Harbour Clinic")
            .await
            .unwrap();
        let gp = persona(
            &app,
            &mut conn,
            clinic,
            "Synthetic GP",
            &[Role::PrimaryCareProvider],
            0,
        )
        .await;
        let mother = persona(
            &app,
            &mut conn,
            clinic,
            "Synthetic Mother",
            &[Role::Patient],
            0,
        )
        .await;
        let patient = import_on_team(&app, &mut conn, clinic, &gp, Some(&mother)).await;
        let other_patient = import_on_team(&app, &mut conn, clinic, &gp, None).await;
        for patient in [patient, other_patient] {
            consents::set_consent(&app, &mut conn, patient, Consent::Granted).await;
        }
        Self {
            app,
            gp,
            mother,
            patient,
            other_patient,
            conn,
        }
    }

    /// Grants the patient a data-sharing consent naming [`RECIPIENT`] for `categories`.
    async fn share(
        &mut self,
        patient: PatientId,
        categories: &[DataCategory],
        expires_at: Option<DateTime<Utc>>,
    ) -> ConsentGrantId {
        let keys = self.app.state.services.keys.clone();
        let scope = sharing_scope(RECIPIENT, categories.to_vec());
        let starts_at = Utc::now() - Duration::days(1);
        consents::grant(
            &mut self.conn,
            keys.as_ref(),
            patient,
            scope,
            starts_at,
            expires_at,
        )
        .await
    }

    async fn revoke(&mut self, grant: ConsentGrantId) {
        let keys = self.app.state.services.keys.clone();
        consents::revoke(&mut self.conn, keys.as_ref(), self.patient, grant).await;
    }

    /// Requests an export as the GP and returns the status and body.
    async fn request(&self, categories: &[DataCategory], request_id: &str) -> (StatusCode, Value) {
        request_as(&self.app, &self.gp, self.patient, categories, request_id).await
    }

    async fn download(&self, export: &str, request_id: &str) -> (StatusCode, Value) {
        call_as(
            &self.app.router,
            &self.gp.cookie,
            "exports/download",
            &[("export_id", export.to_owned())],
            request_id,
        )
        .await
    }

    async fn run_worker(&self) -> Vec<(ExportId, ExportStatus)> {
        app::exports::worker::process_queued(&self.app.pool, &self.app.state.services)
            .await
            .unwrap()
    }

    fn gp_actor(&self) -> Actor {
        Actor {
            user: self.gp.user,
            roles: self.gp.roles.clone(),
            clinic: self.gp.clinic,
            client: ClientInfo::default(),
        }
    }
}

async fn import_on_team(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    gp: &Persona,
    owner: Option<&Persona>,
) -> PatientId {
    let team = vec![NewCareTeamMember {
        provider: gp.user,
        role: Role::PrimaryCareProvider,
        starts_at: Utc::now() - Duration::days(10),
        ends_at: None,
    }];
    import(
        app,
        conn,
        clinic,
        gp.user,
        owner.map(|owner| owner.user),
        team,
    )
    .await
}

async fn request_as(
    app: &TestApp,
    requester: &Persona,
    patient: PatientId,
    categories: &[DataCategory],
    request_id: &str,
) -> (StatusCode, Value) {
    let mut arguments = vec![
        ("patient_id", patient.to_string()),
        ("recipient", RECIPIENT.to_owned()),
        ("purpose", "transfer of postnatal care".to_owned()),
    ];
    let names = ["categories[0]", "categories[1]", "categories[2]"];
    for (name, category) in names.iter().zip(categories) {
        let text = serde_json::to_value(category).unwrap();
        arguments.push((name, text.as_str().unwrap().to_owned()));
    }
    call_as(
        &app.router,
        &requester.cookie,
        "exports/request",
        &arguments,
        request_id,
    )
    .await
}

#[derive(QueryableByName, Debug)]
struct StoredExport {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Bool)]
    has_bundle: bool,
    #[diesel(sql_type = Nullable<Text>)]
    withheld_reason: Option<String>,
}

async fn stored(conn: &mut AsyncPgConnection, id: &str) -> StoredExport {
    diesel::sql_query(
        "SELECT status, bundle_ciphertext IS NOT NULL AS has_bundle, withheld_reason \
         FROM data_exports WHERE id = $1",
    )
    .bind::<SqlUuid, _>(uuid::Uuid::parse_str(id).unwrap())
    .get_result(conn)
    .await
    .unwrap()
}

#[derive(QueryableByName, Debug)]
struct Event {
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    outcome: String,
    #[diesel(sql_type = SqlUuid)]
    patient_id: uuid::Uuid,
}

/// Returns the export events of one request, or of the worker when `request_id` is `None`.
async fn events(conn: &mut AsyncPgConnection, request_id: Option<&str>) -> Vec<Event> {
    diesel::sql_query(
        "SELECT action, outcome, patient_id FROM data_access_audit \
         WHERE request_id IS NOT DISTINCT FROM $1 AND action = 'export' \
         ORDER BY occurred_at",
    )
    .bind::<Nullable<Text>, _>(request_id)
    .load(conn)
    .await
    .unwrap()
}

fn export_id(body: &Value) -> String {
    body["id"]
        .as_str()
        .expect("the response names the export")
        .to_owned()
}

#[tokio::test]
async fn happy_path_releases_only_permitted_classes() {
    let mut setup = Setup::new().await;
    let categories = [DataCategory::Maternal, DataCategory::Contact];
    setup.share(setup.patient, &categories, None).await;
    setup
        .share(setup.other_patient, &DataCategory::ALL, None)
        .await;

    let (status, body) = setup.request(&categories, "request").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "queued");
    let id = export_id(&body);
    let built = setup.run_worker().await;
    assert_eq!(built.len(), 1);
    assert_eq!(built[0].1, ExportStatus::Ready);
    assert!(stored(&mut setup.conn, &id).await.has_bundle);

    let (status, body) = setup.download(&id, "download").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let content: Value = serde_json::from_str(body["content"].as_str().unwrap()).unwrap();
    let sections: Vec<&String> = content["data"].as_object().unwrap().keys().collect();
    assert_eq!(sections, ["contact", "maternal"]);
    assert_eq!(content["patient_id"], setup.patient.to_string());
    assert_eq!(content["recipient"], RECIPIENT);
    assert_eq!(
        content["data"]["contact"]["full_name"],
        "Mira Testwell (synthetic)"
    );
    let maternal = &content["data"]["maternal"];
    assert_eq!(maternal["entries"].as_array().unwrap().len(), 1);
    assert_eq!(maternal["observations"].as_array().unwrap().len(), 1);
    let text = body["content"].as_str().unwrap();
    assert!(!text.contains(&setup.other_patient.to_string()));
    assert!(!text.contains("epds"), "no mental health observation");

    let after = stored(&mut setup.conn, &id).await;
    assert_eq!(after.status, "released");
    assert!(!after.has_bundle, "the bundle is deleted on release");
    let (status, _) = setup.download(&id, "again").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a bundle is released once");

    let released = events(&mut setup.conn, Some("download")).await;
    assert!(released.iter().all(|event| event.action == "export"));
    assert!(released.iter().all(|event| event.outcome == "allowed"));
    assert!(
        released
            .iter()
            .all(|event| event.patient_id == setup.patient.0)
    );
    let built = events(&mut setup.conn, None).await;
    assert!(
        built.iter().any(|event| event.action == "export"),
        "the build is audited as an export"
    );

    let (status, history) = call_as(
        &setup.app.router,
        &setup.mother.cookie,
        "portal/access-history",
        &[],
        "history",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let exports = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["action"] == "export")
        .count();
    assert!(
        exports >= 3,
        "the request, build and release are in her history"
    );
}

#[tokio::test]
async fn revoked_while_queued_is_withheld() {
    let mut setup = Setup::new().await;
    let grant = setup
        .share(setup.patient, &[DataCategory::Maternal], None)
        .await;
    let (status, body) = setup.request(&[DataCategory::Maternal], "request").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = export_id(&body);

    setup.revoke(grant).await;
    let built = setup.run_worker().await;
    assert_eq!(built[0].1, ExportStatus::Withheld);

    let after = stored(&mut setup.conn, &id).await;
    assert_eq!(after.status, "withheld");
    assert!(!after.has_bundle);
    assert!(after.withheld_reason.unwrap().contains("consent"));
    let worker_events = events(&mut setup.conn, None).await;
    assert!(
        worker_events
            .iter()
            .any(|event| event.outcome == "denied" && event.action == "export"),
        "the refusal is audited"
    );
    assert!(
        worker_events.iter().all(|event| event.outcome == "denied"),
        "nothing was read"
    );
    let (status, _) = setup.download(&id, "download").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn revoked_after_build_refuses_download() {
    let mut setup = Setup::new().await;
    let grant = setup
        .share(setup.patient, &[DataCategory::Maternal], None)
        .await;
    let (_, body) = setup.request(&[DataCategory::Maternal], "request").await;
    let id = export_id(&body);
    assert_eq!(setup.run_worker().await[0].1, ExportStatus::Ready);

    setup.revoke(grant).await;
    let (status, refused) = setup.download(&id, "download").await;
    let (unknown_status, unknown) = setup
        .download(&uuid::Uuid::new_v4().to_string(), "unknown")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(refused["message"], NOT_FOUND);
    assert_eq!((status, &refused), (unknown_status, &unknown));

    let after = stored(&mut setup.conn, &id).await;
    assert_eq!(after.status, "withheld");
    assert!(!after.has_bundle, "the bundle is deleted");
    let denied = events(&mut setup.conn, Some("download")).await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].outcome, "denied");
    assert_eq!(denied[0].action, "export");
}

#[tokio::test]
async fn consent_expiring_at_release_instant_withholds() {
    let mut setup = Setup::new().await;
    let expiry = Utc::now() + Duration::hours(1);
    setup
        .share(setup.patient, &[DataCategory::Maternal], Some(expiry))
        .await;
    let keys = RecordKeys::from_services(&setup.app.state.services);
    let actor = setup.gp_actor();

    let mut ids = Vec::new();
    for request in ["before", "at"] {
        let (status, body) = setup.request(&[DataCategory::Maternal], request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = ExportId(uuid::Uuid::parse_str(&export_id(&body)).unwrap());
        let built = build_export_at(&mut setup.conn, keys, id, expiry - Duration::seconds(1))
            .await
            .unwrap();
        assert_eq!(built, Some(ExportStatus::Ready));
        ids.push(id);
    }

    let last_moment = expiry - Duration::microseconds(1);
    let released = release_export_at(&mut setup.conn, keys, &actor, ids[0], last_moment).await;
    assert!(released.is_ok(), "released a microsecond before expiry");

    let refused = release_export_at(&mut setup.conn, keys, &actor, ids[1], expiry).await;
    assert_eq!(refused.unwrap_err().code, app::error::ErrorCode::NotFound);
    let after = stored(&mut setup.conn, &ids[1].to_string()).await;
    assert_eq!(after.status, "withheld");
    assert!(!after.has_bundle);
}

#[tokio::test]
async fn recipient_not_in_consent_is_refused() {
    let mut setup = Setup::new().await;
    setup
        .share(setup.patient, &[DataCategory::Maternal], None)
        .await;

    let (status, body) = setup
        .request(&[DataCategory::MentalHealth], "uncovered")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let denied = events(&mut setup.conn, Some("uncovered")).await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].outcome, "denied");

    let (status, body) = call_as(
        &setup.app.router,
        &setup.gp.cookie,
        "exports/request",
        &[
            ("patient_id", setup.patient.to_string()),
            ("recipient", "Someone Else (synthetic)".to_owned()),
            ("purpose", "transfer of postnatal care".to_owned()),
            ("categories[0]", "maternal".to_owned()),
        ],
        "stranger",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(events(&mut setup.conn, Some("stranger")).await.len(), 1);
    assert!(setup.run_worker().await.is_empty(), "nothing was queued");
}

#[tokio::test]
async fn invalid_request_rejected_before_queueing() {
    let setup = Setup::new().await;
    let (status, body) = setup
        .request(&[DataCategory::CareLogistics], "logistics")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = setup.request(&[], "empty").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn patient_cannot_export_own_record_to_party() {
    let mut setup = Setup::new().await;
    setup
        .share(setup.patient, &[DataCategory::Maternal], None)
        .await;
    let (status, _) = request_as(
        &setup.app,
        &setup.mother,
        setup.patient,
        &[DataCategory::Maternal],
        "own",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let denied = events(&mut setup.conn, Some("own")).await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].outcome, "denied");
}

#[tokio::test]
async fn other_requester_cannot_download() {
    let mut setup = Setup::new().await;
    setup
        .share(setup.patient, &[DataCategory::Maternal], None)
        .await;
    let (_, body) = setup.request(&[DataCategory::Maternal], "request").await;
    let id = export_id(&body);
    setup.run_worker().await;

    let clinic = setup.gp.clinic;
    let midwife = persona(
        &setup.app,
        &mut setup.conn,
        clinic,
        "Synthetic Midwife",
        &[Role::Midwife],
        0,
    )
    .await;
    for (persona, request) in [(&midwife, "midwife"), (&setup.mother, "mother")] {
        let (status, _) = call_as(
            &setup.app.router,
            &persona.cookie,
            "exports/download",
            &[("export_id", id.clone())],
            request,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{request}");
    }
    assert_eq!(stored(&mut setup.conn, &id).await.status, "ready");
    let (status, _) = setup.download(&id, "requester").await;
    assert_eq!(status, StatusCode::OK);
}
