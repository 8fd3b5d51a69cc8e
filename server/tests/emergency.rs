//! Break-glass emergency access, care-team management, the clinic's permission table and the
//! patient's access history, through the real router.

mod support;

use app::access::guard::{Actor, authorize_at};
use app::access::{Action, DataCategory};
use app::audit::ClientInfo;
use app::identity::Role;
use app::ids::PatientId;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use support::matrix::{Consent, Relationship, World, insert_grant};
use support::personas::{Persona, call_as, persona};

const JUSTIFICATION: &str = "Unconscious on arrival, no chart available";

fn actor(persona: &Persona) -> Actor {
    Actor {
        user: persona.user,
        roles: persona.roles.clone(),
        clinic: persona.clinic,
        client: ClientInfo::default(),
    }
}

async fn call(
    world: &World,
    who: &Persona,
    endpoint: &str,
    arguments: &[(&str, String)],
) -> (StatusCode, Value) {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    call_as(
        &world.app.router,
        &who.cookie,
        endpoint,
        arguments,
        &request_id,
    )
    .await
}

async fn read_summary(world: &World, who: &Persona, patient: PatientId) -> StatusCode {
    let arguments = [
        ("patient_id", patient.to_string()),
        ("category", "maternal".to_owned()),
        ("purpose", "emergency care".to_owned()),
    ];
    call(world, who, "chart/entries", &arguments).await.0
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

async fn count(conn: &mut AsyncPgConnection, statement: &str, text: &str) -> i64 {
    diesel::sql_query(statement)
        .bind::<Text, _>(text)
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .count
}

fn request_arguments(patient: PatientId, level: &str) -> Vec<(&'static str, String)> {
    vec![
        ("patient_id", patient.to_string()),
        ("level", level.to_owned()),
        ("justification", JUSTIFICATION.to_owned()),
    ]
}

#[tokio::test]
async fn critical_request_granted_at_once() {
    let world = World::build().await;
    let midwife = &world.personas[&Role::Midwife];
    let patient = world.patient(Relationship::OffCareTeam, Consent::Never, Role::Midwife);
    assert_eq!(
        read_summary(&world, midwife, patient).await,
        StatusCode::NOT_FOUND
    );

    let (status, body) = call(
        &world,
        midwife,
        "emergency/request",
        &request_arguments(patient, "critical"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "granted");
    let granted: DateTime<Utc> = body["granted_at"].as_str().unwrap().parse().unwrap();
    let expires: DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires - granted, Duration::hours(4));

    assert_eq!(read_summary(&world, midwife, patient).await, StatusCode::OK);
    let mut conn = world.app.pool.get().await.unwrap();
    let emergency_reads = count(
        &mut conn,
        "SELECT count(*) AS count FROM data_access_audit WHERE patient_id::text = $1 \
         AND outcome = 'allowed' AND emergency",
        &patient.to_string(),
    )
    .await;
    assert_eq!(emergency_reads, 1);

    let compliance = &world.personas[&Role::ComplianceOfficer];
    let (status, notifications) = call(&world, compliance, "emergency/notifications", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(notifications[0]["kind"], "emergency_granted");
    assert_eq!(
        notifications[0]["request"]["requester_name"],
        "Synthetic Midwife"
    );
    let started = count(
        &mut conn,
        "SELECT count(*) AS count FROM security_events WHERE kind = $1",
        "emergency_access_started",
    )
    .await;
    assert_eq!(started, 1);

    // A clinic that does not grant at once leaves the request pending.
    let admin = &world.personas[&Role::Admin];
    let (_, settings) = call(&world, admin, "access/settings", &[]).await;
    let update = [
        ("permissions", settings["permissions"].to_string()),
        ("auto_grant_critical", "false".to_owned()),
        ("emergency_grant_minutes", "60".to_owned()),
    ];
    let (status, body) = call(&world, admin, "access/settings/update", &update).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let gp = &world.personas[&Role::PrimaryCareProvider];
    let (_, body) = call(
        &world,
        gp,
        "emergency/request",
        &request_arguments(patient, "critical"),
    )
    .await;
    assert_eq!(body["status"], "pending");
}

#[tokio::test]
async fn urgent_request_waits_for_approval_then_needs_review() {
    let world = World::build().await;
    let gp = &world.personas[&Role::PrimaryCareProvider];
    let compliance = &world.personas[&Role::ComplianceOfficer];
    let patient = world.patient(
        Relationship::OffCareTeam,
        Consent::Never,
        Role::PrimaryCareProvider,
    );

    let (status, body) = call(
        &world,
        gp,
        "emergency/request",
        &request_arguments(patient, "urgent"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "pending");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        read_summary(&world, gp, patient).await,
        StatusCode::NOT_FOUND
    );

    let (_, pending) = call(&world, compliance, "emergency/pending", &[]).await;
    assert_eq!(pending.as_array().unwrap().len(), 1);
    let (status, _) = call(&world, gp, "emergency/pending", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "clinicians see no queue");
    let (status, _) = call(
        &world,
        gp,
        "emergency/decide",
        &[
            ("id", id.clone()),
            ("approve", "true".to_owned()),
            ("reason", "mine".to_owned()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a clinician cannot approve");

    let decide = [
        ("id", id.clone()),
        ("approve", "true".to_owned()),
        ("reason", "Confirmed with the ward".to_owned()),
    ];
    let (status, body) = call(&world, compliance, "emergency/decide", &decide).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "granted");
    let (status, _) = call(&world, compliance, "emergency/decide", &decide).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(read_summary(&world, gp, patient).await, StatusCode::OK);

    let mine = |queue: &Value| {
        queue
            .as_array()
            .unwrap()
            .iter()
            .filter(|request| request["id"] == id.as_str())
            .count()
    };
    let (_, unreviewed) = call(&world, compliance, "emergency/unreviewed", &[]).await;
    assert_eq!(mine(&unreviewed), 1);
    let review = [
        ("id", id.clone()),
        (
            "note",
            "Justified; chart access matched the visit".to_owned(),
        ),
    ];
    let (status, body) = call(&world, compliance, "emergency/review", &review).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["reviewed_at"].is_string());
    let (_, unreviewed) = call(&world, compliance, "emergency/unreviewed", &[]).await;
    assert_eq!(mine(&unreviewed), 0);
    let (status, _) = call(&world, compliance, "emergency/review", &review).await;
    assert_eq!(status, StatusCode::CONFLICT, "a grant is reviewed once");
}

#[tokio::test]
async fn denied_request_grants_nothing() {
    let world = World::build().await;
    let midwife = &world.personas[&Role::Midwife];
    let admin = &world.personas[&Role::Admin];
    let patient = world.patient(Relationship::OffCareTeam, Consent::Never, Role::Midwife);
    let (_, body) = call(
        &world,
        midwife,
        "emergency/request",
        &request_arguments(patient, "urgent"),
    )
    .await;
    let decide = [
        ("id", body["id"].as_str().unwrap().to_owned()),
        ("approve", "false".to_owned()),
        ("reason", "Not an emergency".to_owned()),
    ];
    let (status, body) = call(&world, admin, "emergency/decide", &decide).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "denied");
    assert_eq!(
        read_summary(&world, midwife, patient).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn request_needs_clinician_step_up_and_justification() {
    let world = World::build().await;
    let patient = world.patient(Relationship::OffCareTeam, Consent::Never, Role::Midwife);
    for role in [
        Role::CareCoordinator,
        Role::Admin,
        Role::Researcher,
        Role::Patient,
    ] {
        let (status, _) = call(
            &world,
            &world.personas[&role],
            "emergency/request",
            &request_arguments(patient, "critical"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{role:?}");
    }
    let midwife = &world.personas[&Role::Midwife];
    let mut arguments = request_arguments(patient, "critical");
    arguments[2].1 = "short".to_owned();
    let (status, _) = call(&world, midwife, "emergency/request", &arguments).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let mut conn = world.app.pool.get().await.unwrap();
    let stale = persona(
        &world.app,
        &mut conn,
        world.clinic,
        "Stale Midwife",
        &[Role::Midwife],
        3600,
    )
    .await;
    let (status, body) = call(
        &world,
        &stale,
        "emergency/request",
        &request_arguments(patient, "critical"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "step_up_required");
    let stored = count(
        &mut conn,
        "SELECT count(*) AS count FROM emergency_access WHERE requester_user_id::text IN ($1)",
        &stale.user.to_string(),
    )
    .await;
    assert_eq!(stored, 0, "nothing was stored");
}

#[tokio::test]
async fn grant_expires_exactly_at_its_limit() {
    let world = World::build().await;
    let midwife = &world.personas[&Role::Midwife];
    let patient = world.patient(Relationship::OffCareTeam, Consent::Never, Role::Midwife);
    let granted_at = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
    let expires_at = granted_at + Duration::hours(4);
    let mut conn = world.app.pool.get().await.unwrap();
    insert_grant(
        &mut conn,
        world.clinic,
        patient,
        midwife.user,
        granted_at,
        expires_at,
    )
    .await;

    let at = |instant| {
        let actor = actor(midwife);
        let app = &world.app;
        async move {
            let mut conn = app.pool.get().await.unwrap();
            authorize_at(
                &mut conn,
                &actor,
                patient,
                DataCategory::Maternal,
                Action::Read,
                "emergency care",
                instant,
            )
            .await
        }
    };
    let before_start = at(granted_at - Duration::microseconds(1)).await;
    assert!(before_start.is_err());
    let start = at(granted_at).await.unwrap();
    assert!(start.is_emergency());
    let last = at(expires_at - Duration::microseconds(1)).await.unwrap();
    assert!(last.is_emergency());
    let limit = at(expires_at).await;
    assert_eq!(limit.unwrap_err(), app::error::AppError::not_found());
}

#[tokio::test]
async fn care_team_changes_apply_to_the_next_request() {
    let world = World::build().await;
    let coordinator = &world.personas[&Role::CareCoordinator];
    let midwife = &world.personas[&Role::Midwife];
    let patient = world.patient(Relationship::OffCareTeam, Consent::Granted, Role::Midwife);
    assert_eq!(
        read_summary(&world, midwife, patient).await,
        StatusCode::NOT_FOUND
    );

    let add = [
        ("patient_id", patient.to_string()),
        ("provider", midwife.user.to_string()),
        ("role", "midwife".to_owned()),
    ];
    let (status, body) = call(&world, midwife, "care-team/add", &add).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a midwife does not manage care teams: {body}"
    );
    let (status, body) = call(&world, coordinator, "care-team/add", &add).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let membership = body.as_str().unwrap().to_owned();
    assert_eq!(read_summary(&world, midwife, patient).await, StatusCode::OK);

    let wrong_role = [
        ("patient_id", patient.to_string()),
        ("provider", midwife.user.to_string()),
        ("role", "primary_care_provider".to_owned()),
    ];
    let (status, _) = call(&world, coordinator, "care-team/add", &wrong_role).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the provider must hold the role"
    );

    let admin = &world.personas[&Role::Admin];
    let end = [
        ("patient_id", patient.to_string()),
        ("membership_id", membership),
    ];
    let (status, body) = call(&world, admin, "care-team/end", &end).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        read_summary(&world, midwife, patient).await,
        StatusCode::NOT_FOUND
    );

    let (status, team) = call(
        &world,
        admin,
        "care-team/list",
        &[("patient_id", patient.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(team[0]["provider_name"], "Synthetic Midwife");
    assert_eq!(team[0]["active"], false);
    let mut conn = world.app.pool.get().await.unwrap();
    let changes = count(
        &mut conn,
        "SELECT count(*) AS count FROM data_access_audit WHERE patient_id::text = $1 \
         AND action = 'write' AND data_elements = ARRAY['care_team']",
        &patient.to_string(),
    )
    .await;
    assert_eq!(changes, 2, "adding and ending are audited");
}

#[tokio::test]
async fn permission_changes_are_audited_and_enforced() {
    let world = World::build().await;
    let admin = &world.personas[&Role::Admin];
    let midwife = &world.personas[&Role::Midwife];
    let patient = world.patient(Relationship::OnCareTeam, Consent::Granted, Role::Midwife);
    assert_eq!(read_summary(&world, midwife, patient).await, StatusCode::OK);

    let (status, settings) = call(&world, admin, "access/settings", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["auto_grant_critical"], true);
    assert_eq!(settings["emergency_grant_minutes"], 240);
    let (status, _) = call(&world, midwife, "access/settings", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mut table: app::access::PermissionTable =
        serde_json::from_value(settings["permissions"].clone()).unwrap();
    table
        .rows
        .retain(|row| !(row.role == Role::Midwife && row.category == DataCategory::Maternal));
    let update = [
        ("permissions", serde_json::to_string(&table).unwrap()),
        ("auto_grant_critical", "true".to_owned()),
        ("emergency_grant_minutes", "240".to_owned()),
    ];
    let (status, body) = call(&world, admin, "access/settings/update", &update).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        read_summary(&world, midwife, patient).await,
        StatusCode::NOT_FOUND
    );

    let mut conn = world.app.pool.get().await.unwrap();
    let changes = count(
        &mut conn,
        "SELECT count(*) AS count FROM security_events WHERE kind = $1",
        "access_settings_changed",
    )
    .await;
    assert_eq!(changes, 1);

    let stale = persona(
        &world.app,
        &mut conn,
        world.clinic,
        "Stale Admin",
        &[Role::Admin],
        3600,
    )
    .await;
    let (status, _) = call(&world, &stale, "access/settings/update", &update).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a change needs a recent step-up"
    );
}

#[tokio::test]
async fn patient_sees_who_accessed_her_record() {
    let world = World::build().await;
    let patient_persona = &world.personas[&Role::Patient];
    let patient = world.patient(Relationship::OwnRecord, Consent::Never, Role::Patient);
    let midwife = &world.personas[&Role::Midwife];
    let mut conn = world.app.pool.get().await.unwrap();
    let now = Utc::now();
    insert_grant(
        &mut conn,
        world.clinic,
        patient,
        midwife.user,
        now - Duration::minutes(1),
        now + Duration::hours(1),
    )
    .await;
    assert_eq!(read_summary(&world, midwife, patient).await, StatusCode::OK);
    let gp = &world.personas[&Role::PrimaryCareProvider];
    assert_eq!(
        read_summary(&world, gp, patient).await,
        StatusCode::NOT_FOUND
    );

    let (status, history) = call(&world, patient_persona, "portal/access-history", &[]).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let items = history.as_array().unwrap();
    let emergency = items
        .iter()
        .find(|item| item["emergency"] == true)
        .unwrap_or_else(|| panic!("the emergency read is listed: {history}"));
    assert_eq!(emergency["who"], "Synthetic Midwife");
    assert_eq!(emergency["roles"][0], "Midwife");
    assert_eq!(emergency["purpose"], "emergency care");
    assert_eq!(emergency["data"][0], "Maternal health");
    assert_eq!(emergency["allowed"], true);
    let refused = items
        .iter()
        .find(|item| item["who"] == "Synthetic GP")
        .unwrap_or_else(|| panic!("the refused read is listed: {history}"));
    assert_eq!(refused["allowed"], false);

    let (status, _) = call(&world, midwife, "portal/access-history", &[]).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "staff have no portal history"
    );
}
