//! The clinician dashboard's server functions through the real router: the order of the
//! patient list, its filters and name search, that a clinician is shown only her own current
//! patients who consented, that other roles are rejected, and what the audit trail records.

mod support;

use app::clinical::growth::Sex;
use app::clinical::units::{Entered, MassUnit};
use app::identity::Role;
use app::ids::{ClinicId, PatientId};
use app::records::{
    Classification, ImportedInfant, ImportedMessage, ImportedPatient, ImportedThread,
    MessageSender, NewCareTeamMember, NewInfant, NewPatient,
};
use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use support::TestApp;
use support::matrix::Consent;
use support::personas::{Persona, call_as, persona};

/// A midwife's clinic: her patients in every state the dashboard must tell apart, and the
/// patients she must never see.
struct Clinic {
    app: TestApp,
    midwife: Persona,
    /// Severe-range blood pressure reported: an urgent alert.
    urgent: Mother,
    /// A message to the midwife that she has not read.
    unread: Mother,
    /// Raised blood pressure reported: a follow-up task for the midwife.
    task: Mother,
    /// Nothing happened yet.
    quiet: PatientId,
    /// On another midwife's care team only.
    others: PatientId,
    /// In another clinic, with a membership row naming the midwife there.
    other_clinic: PatientId,
    /// On her care team without a care consent.
    unconsented: PatientId,
    /// Her membership ended yesterday.
    former: PatientId,
}

struct Mother {
    account: Persona,
    patient: PatientId,
}

/// Contents of a test patient's record besides her name.
#[derive(Default)]
struct Setup {
    account: Option<app::ids::UserId>,
    team: Vec<NewCareTeamMember>,
    threads: Vec<ImportedThread>,
    consent: Option<Consent>,
}

fn member(provider: &Persona, ended: bool) -> NewCareTeamMember {
    let now = Utc::now();
    NewCareTeamMember {
        provider: provider.user,
        role: Role::Midwife,
        starts_at: now - Duration::days(20),
        ends_at: ended.then(|| now - Duration::days(1)),
    }
}

async fn import(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    name: &str,
    setup: Setup,
) -> PatientId {
    let author = setup.team.first().map(|member| member.provider);
    let record = ImportedPatient {
        patient: NewPatient {
            user_id: setup.account,
            full_name: name.to_owned(),
            date_of_birth: NaiveDate::from_ymd_opt(1994, 6, 1).unwrap(),
            address: "3 Example Close, Testville (synthetic)".to_owned(),
            phone: "+44 7700 900003".to_owned(),
        },
        author: author.or(setup.account).expect("a record needs an author"),
        infants: vec![ImportedInfant {
            infant: NewInfant {
                name: format!("Baby of {name}"),
                birth_date: Utc::now().date_naive() - Duration::days(23),
                birth_weight: Entered::new(3300.0, MassUnit::Grams),
                sex: Sex::Female,
            },
            observations: Vec::new(),
            entries: Vec::new(),
        }],
        observations: Vec::new(),
        entries: Vec::new(),
        care_team: setup.team,
        appointments: Vec::new(),
        threads: setup.threads,
    };
    let keys = app::records::RecordKeys::from_services(&app.state.services);
    let patient =
        app::records::import_patients(conn, keys, clinic, "synthetic test data", &[record])
            .await
            .unwrap()
            .remove(0);
    if let Some(state) = setup.consent {
        support::consents::set_consent(app, conn, patient, state).await;
    }
    patient
}

/// Creates a mother with her own account, on `midwife`'s care team with a care consent.
async fn mother(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    name: &str,
    midwife: &Persona,
    threads: Vec<ImportedThread>,
) -> Mother {
    let account = persona(app, conn, clinic, name, &[Role::Patient], 0).await;
    let setup = Setup {
        account: Some(account.user),
        team: vec![member(midwife, false)],
        threads,
        consent: Some(Consent::Granted),
    };
    let patient = import(app, conn, clinic, name, setup).await;
    Mother { account, patient }
}

fn message_to(midwife: &Persona) -> ImportedThread {
    ImportedThread {
        classification: Classification::Maternal,
        subject: "Feeling dizzy (synthetic)".to_owned(),
        staff: vec![midwife.user],
        messages: vec![ImportedMessage {
            sender: MessageSender::Patient,
            sent_at: Utc::now() - Duration::hours(2),
            body: "Synthetic message body".to_owned(),
        }],
        read_by_patient: 1,
        read_by_staff: 0,
    }
}

impl Clinic {
    async fn build() -> Self {
        let app = TestApp::new().await;
        let mut conn = support::connect(&app.database.url).await;
        let clinic = support::create_clinic(&mut conn, "harbour").await;
        let ridge = support::create_clinic(&mut conn, "ridge").await;
        let midwife = persona(&app, &mut conn, clinic, "Maya Midwife", &[Role::Midwife], 0).await;
        let colleague = persona(
            &app,
            &mut conn,
            clinic,
            "Cleo Colleague",
            &[Role::Midwife],
            0,
        )
        .await;

        let urgent = mother(&app, &mut conn, clinic, "Uma Urgent", &midwife, Vec::new()).await;
        let unread = mother(
            &app,
            &mut conn,
            clinic,
            "Una Unread",
            &midwife,
            vec![message_to(&midwife)],
        )
        .await;
        let task = mother(&app, &mut conn, clinic, "Tess Task", &midwife, Vec::new()).await;
        let on_team = |ended| Setup {
            team: vec![member(&midwife, ended)],
            consent: Some(Consent::Granted),
            ..Setup::default()
        };
        let quiet = import(&app, &mut conn, clinic, "Quinn Quiet", on_team(false)).await;
        let former = import(&app, &mut conn, clinic, "Fern Former", on_team(true)).await;
        let other_clinic = import(&app, &mut conn, ridge, "Rita Ridge", on_team(false)).await;
        let unconsented = Setup {
            team: vec![member(&midwife, false)],
            ..Setup::default()
        };
        let unconsented = import(&app, &mut conn, clinic, "Nora Noconsent", unconsented).await;
        let colleagues = Setup {
            team: vec![member(&colleague, false)],
            consent: Some(Consent::Granted),
            ..Setup::default()
        };
        let others = import(&app, &mut conn, clinic, "Olive Others", colleagues).await;

        let clinic = Self {
            app,
            midwife,
            urgent,
            unread,
            task,
            quiet,
            others,
            other_clinic,
            unconsented,
            former,
        };
        clinic.report_blood_pressure(&clinic.urgent, 165, 112).await;
        clinic.report_blood_pressure(&clinic.task, 146, 92).await;
        clinic
    }

    async fn report_blood_pressure(&self, mother: &Mother, systolic: u32, diastolic: u32) {
        let arguments = [
            ("systolic", systolic.to_string()),
            ("diastolic", diastolic.to_string()),
            ("unit", "millimetres_of_mercury".to_owned()),
        ];
        let (status, body) = call_as(
            &self.app.router,
            &mother.account.cookie,
            "portal/vitals/blood-pressure",
            &arguments,
            "report",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn patients(&self, filter: &[(&str, &str)], request_id: &str) -> (StatusCode, Value) {
        let mut arguments: Vec<(&str, String)> = vec![
            ("filter[with_alerts]", "false".to_owned()),
            ("filter[with_unread]", "false".to_owned()),
            ("filter[with_tasks]", "false".to_owned()),
            ("filter[name]", String::new()),
        ];
        for (key, value) in filter {
            let slot = arguments.iter_mut().find(|(name, _)| name == key).unwrap();
            slot.1 = (*value).to_owned();
        }
        call_as(
            &self.app.router,
            &self.midwife.cookie,
            "dashboard/patients",
            &arguments,
            request_id,
        )
        .await
    }

    async fn listed(&self, filter: &[(&str, &str)]) -> Vec<String> {
        let (status, body) = self.patients(filter, "list").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array()
            .unwrap()
            .iter()
            .map(|row| row["full_name"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|row| row["patient_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn patients_ordered_urgent_unread_then_quiet() {
    let clinic = Clinic::build().await;
    let (status, body) = clinic.patients(&[], "order").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Uma Urgent", "Una Unread", "Tess Task", "Quinn Quiet"]
    );
    assert_eq!(body[0]["highest_alert"], "urgent");
    assert_eq!(body[0]["open_alerts"], 1);
    assert_eq!(body[1]["unread_messages"], 1);
    assert_eq!(body[2]["open_tasks"], 1);
    assert_eq!(body[2]["open_alerts"], 0);
    assert_eq!(body[3]["last_activity_ms"], Value::Null);
    assert_eq!(
        body[0]["weeks_postpartum"], 3,
        "the infant was born 23 days ago"
    );
}

#[tokio::test]
async fn only_her_current_consented_patients_listed() {
    let clinic = Clinic::build().await;
    let (status, body) = clinic.patients(&[], "scope").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let listed = ids(&body);
    for (patient, who) in [
        (clinic.others, "another midwife's patient"),
        (clinic.other_clinic, "another clinic's patient"),
        (clinic.unconsented, "a patient without consent"),
        (clinic.former, "a patient of an ended membership"),
    ] {
        assert!(!listed.contains(&patient.to_string()), "{who} is listed");
    }
    assert!(listed.contains(&clinic.quiet.to_string()));
}

#[tokio::test]
async fn filters_keep_matching_patients() {
    let clinic = Clinic::build().await;
    assert_eq!(
        clinic.listed(&[("filter[with_alerts]", "true")]).await,
        ["Uma Urgent"]
    );
    assert_eq!(
        clinic.listed(&[("filter[with_unread]", "true")]).await,
        ["Una Unread"]
    );
    assert_eq!(
        clinic.listed(&[("filter[with_tasks]", "true")]).await,
        ["Tess Task"]
    );
    let both = [
        ("filter[with_alerts]", "true"),
        ("filter[with_unread]", "true"),
    ];
    assert!(clinic.listed(&both).await.is_empty());
}

#[tokio::test]
async fn search_finds_her_patients_by_name() {
    let clinic = Clinic::build().await;
    assert_eq!(
        clinic.listed(&[("filter[name]", "una")]).await,
        ["Una Unread"]
    );
    assert_eq!(
        clinic.listed(&[("filter[name]", "QUIET quinn")]).await,
        ["Quinn Quiet"]
    );
    assert!(
        clinic.listed(&[("filter[name]", "Olive")]).await.is_empty(),
        "another midwife's patient is not found"
    );
    assert!(
        clinic
            .listed(&[("filter[name]", "Rita Ridge")])
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn invalid_search_rejected() {
    let clinic = Clinic::build().await;
    let long = "a".repeat(201);
    for text in ["!!!", long.as_str()] {
        let (status, body) = clinic
            .patients(&[("filter[name]", text)], "bad-search")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("name search")
                || body["message"]
                    .as_str()
                    .unwrap()
                    .contains("letter or digit")
        );
    }
}

#[derive(QueryableByName)]
struct Event {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    patient_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Text)]
    outcome: String,
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Array<Text>)]
    data_elements: Vec<String>,
}

async fn events_of(app: &TestApp, request_id: &str) -> Vec<Event> {
    let mut conn = app.pool.get().await.unwrap();
    diesel::sql_query(
        "SELECT patient_id, outcome, action, data_elements FROM data_access_audit \
         WHERE request_id = $1",
    )
    .bind::<Text, _>(request_id)
    .load(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn list_audited_per_patient_shown() {
    let clinic = Clinic::build().await;
    let (status, body) = clinic.patients(&[], "audited").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = ids(&body);
    let events = events_of(&clinic.app, "audited").await;

    assert!(events.iter().all(|event| event.outcome == "allowed"));
    assert!(events.iter().all(|event| event.action == "read"));
    for patient in &listed {
        let of_patient: Vec<&Event> = events
            .iter()
            .filter(|event| event.patient_id.map(|id| id.to_string()).as_ref() == Some(patient))
            .collect();
        let elements: Vec<&str> = of_patient
            .iter()
            .flat_map(|event| event.data_elements.iter().map(String::as_str))
            .collect();
        assert!(elements.contains(&"patient.full_name"), "{elements:?}");
        assert!(elements.contains(&"infant.birth_date"), "{elements:?}");
        assert!(elements.contains(&"care_alert.open_count"), "{elements:?}");
        assert_eq!(of_patient.len(), 3, "one event per category read");
    }
    let named: Vec<uuid::Uuid> = events.iter().filter_map(|event| event.patient_id).collect();
    for hidden in [clinic.others, clinic.unconsented, clinic.other_clinic] {
        assert!(!named.contains(&hidden.0), "an unlisted patient is audited");
    }
    assert_eq!(events.len(), listed.len() * 3);
}

#[tokio::test]
async fn empty_search_leaves_trace() {
    let clinic = Clinic::build().await;
    let (status, body) = clinic.patients(&[("filter[name]", "Nobody")], "none").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, Value::Array(Vec::new()));
    let events = events_of(&clinic.app, "none").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "search");
    assert_eq!(events[0].patient_id, None);
}

#[tokio::test]
async fn patient_and_admin_refused() {
    let clinic = Clinic::build().await;
    let mut conn = support::connect(&clinic.app.database.url).await;
    let admin = persona(
        &clinic.app,
        &mut conn,
        clinic.midwife.clinic,
        "Ada Admin",
        &[Role::Admin],
        0,
    )
    .await;
    let callers = [(&clinic.urgent.account, "as-patient"), (&admin, "as-admin")];
    for (caller, request_id) in callers {
        for endpoint in ["dashboard/patients", "dashboard/tasks", "dashboard/alerts"] {
            let arguments = if endpoint == "dashboard/patients" {
                vec![
                    ("filter[with_alerts]", "false".to_owned()),
                    ("filter[with_unread]", "false".to_owned()),
                    ("filter[with_tasks]", "false".to_owned()),
                    ("filter[name]", String::new()),
                ]
            } else {
                Vec::new()
            };
            let request = format!("{request_id}-{}", endpoint.replace('/', "-"));
            let (status, body) = call_as(
                &clinic.app.router,
                &caller.cookie,
                endpoint,
                &arguments,
                &request,
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{endpoint}: {body}");
            let events = events_of(&clinic.app, &request).await;
            assert_eq!(events.len(), 1, "{endpoint}: the refusal is audited");
            assert_eq!(events[0].outcome, "denied");
        }
    }
}

#[tokio::test]
async fn signed_out_caller_rejected() {
    let clinic = Clinic::build().await;
    let (status, _) = call_as(
        &clinic.app.router,
        "no-such-session",
        "dashboard/alerts",
        &[],
        "signed-out",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn alerts_and_tasks_listed_for_her() {
    let clinic = Clinic::build().await;
    let router = &clinic.app.router;
    let cookie = &clinic.midwife.cookie;

    let (status, alerts) = call_as(router, cookie, "dashboard/alerts", &[], "alerts").await;
    assert_eq!(status, StatusCode::OK, "{alerts}");
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["patient_name"], "Uma Urgent");
    assert_eq!(alerts[0]["priority"], "urgent");
    assert_eq!(alerts[0]["category"], "maternal");
    assert_eq!(
        alerts[0]["summary"],
        "Urgent: blood pressure in the severe range"
    );
    let events = events_of(&clinic.app, "alerts").await;
    assert!(
        events
            .iter()
            .all(|event| event.patient_id == Some(clinic.urgent.patient.0))
    );

    let (status, tasks) = call_as(router, cookie, "dashboard/tasks", &[], "tasks").await;
    assert_eq!(status, StatusCode::OK, "{tasks}");
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["patient_name"], "Tess Task");
    assert_eq!(tasks[0]["state"], "open");
    assert_eq!(tasks[0]["category"], "maternal");
    assert_eq!(tasks[0]["overdue"], false);
    assert_eq!(tasks[0]["summary"], "Follow up raised blood pressure");
}

#[tokio::test]
async fn overdue_tasks_listed_first() {
    let clinic = Clinic::build().await;
    clinic.report_blood_pressure(&clinic.unread, 144, 91).await;
    let mut conn = clinic.app.pool.get().await.unwrap();
    diesel::sql_query(
        "UPDATE care_tasks SET due_at = now() - interval '2 hours' WHERE patient_id = $1",
    )
    .bind::<SqlUuid, _>(clinic.unread.patient.0)
    .execute(&mut conn)
    .await
    .unwrap();

    let router = &clinic.app.router;
    let (status, tasks) = call_as(
        router,
        &clinic.midwife.cookie,
        "dashboard/tasks",
        &[],
        "tasks",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tasks}");
    assert_eq!(tasks[0]["patient_name"], "Una Unread");
    assert_eq!(tasks[0]["overdue"], true);
    assert_eq!(tasks[1]["patient_name"], "Tess Task");
    assert_eq!(tasks[1]["overdue"], false);
}
