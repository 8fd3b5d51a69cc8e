//! The clinician chart through the real router: the server-rendered page at
//! `/clinician/chart?patient=..&purpose=..` for viewers in different roles, and the chart's
//! server functions for tasks, alerts, appointments and questionnaire assignment.

mod support;

use app::access::DataCategory;
use app::identity::Role;
use app::ids::{ClinicId, PatientId};
use app::records::NewCareTeamMember;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use support::matrix::{Consent, count_rows, import, insert_alert, insert_task};
use support::personas::{Persona, call_as, persona};
use support::{TestApp, body_text};

const PURPOSE: &str = "postnatal visit";

/// A clinic with a patient whose care team has a midwife and a lactation consultant, a
/// midwife outside her care team, and the patient's own account.
struct Clinic {
    app: TestApp,
    conn: AsyncPgConnection,
    clinic: ClinicId,
    patient: PatientId,
    midwife: Persona,
    consultant: Persona,
    outsider: Persona,
}

impl Clinic {
    async fn build() -> Self {
        let app = TestApp::new().await;
        let mut conn = support::connect(&app.database.url).await;
        let clinic = support::create_clinic(&mut conn, "willow").await;
        let staff = |name: &'static str, role: Role| (name, role);
        let mut people = Vec::new();
        for (name, role) in [
            staff("Maya Midwife", Role::Midwife),
            staff("Lena Lactation", Role::LactationConsultant),
            staff("Olive Outside", Role::Midwife),
        ] {
            people.push(persona(&app, &mut conn, clinic, name, &[role], 0).await);
        }
        let outsider = people.pop().unwrap();
        let consultant = people.pop().unwrap();
        let midwife = people.pop().unwrap();

        let member = |persona: &Persona, role| NewCareTeamMember {
            provider: persona.user,
            role,
            starts_at: Utc::now() - Duration::days(3),
            ends_at: None,
        };
        let team = vec![
            member(&midwife, Role::Midwife),
            member(&consultant, Role::LactationConsultant),
        ];
        let patient = import(&app, &mut conn, clinic, midwife.user, None, team).await;
        support::consents::set_consent(&app, &mut conn, patient, Consent::Granted).await;
        Self {
            app,
            conn,
            clinic,
            patient,
            midwife,
            consultant,
            outsider,
        }
    }

    /// Loads the chart page as `viewer` and returns its status and HTML.
    async fn page(&self, viewer: &Persona) -> (StatusCode, String) {
        let path = format!(
            "/clinician/chart?patient={}&purpose=postnatal%20visit",
            self.patient
        );
        let request = Request::get(path)
            .header(header::COOKIE, format!("nurture_session={}", viewer.cookie))
            .body(Body::empty())
            .unwrap();
        let response = support::send(&self.app.router, request).await;
        let status = response.status();
        (status, body_text(response).await)
    }

    async fn call(
        &self,
        viewer: &Persona,
        endpoint: &str,
        arguments: &[(&str, String)],
    ) -> (StatusCode, Value) {
        let request_id = format!("{endpoint}-{}", uuid::Uuid::new_v4());
        call_as(
            &self.app.router,
            &viewer.cookie,
            endpoint,
            arguments,
            &request_id,
        )
        .await
    }

    /// Opens the chart in one request as `viewer`, tagged with `request_id` for its audit events.
    async fn open(&self, viewer: &Persona, purpose: &str, request_id: &str) -> (StatusCode, Value) {
        let arguments = [self.patient_argument(), ("purpose", purpose.to_owned())];
        let router = &self.app.router;
        call_as(router, &viewer.cookie, "chart/open", &arguments, request_id).await
    }

    fn patient_argument(&self) -> (&'static str, String) {
        ("patient_id", self.patient.to_string())
    }
}

fn purpose() -> (&'static str, String) {
    ("purpose", PURPOSE.to_owned())
}

#[tokio::test]
async fn midwife_gets_rendered_chart() {
    let clinic = Clinic::build().await;
    let arguments = [
        clinic.patient_argument(),
        ("systolic", "165".to_owned()),
        ("diastolic", "112".to_owned()),
        ("unit", "millimetres_of_mercury".to_owned()),
        purpose(),
    ];
    let (status, body) = clinic
        .call(&clinic.midwife, "chart/vitals/blood-pressure", &arguments)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["flag"], "severe_range");

    let (status, html) = clinic.page(&clinic.midwife).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Mira Testwell (synthetic)"),
        "the name is rendered"
    );
    assert!(html.contains("Date of birth: 1993-05-02"));
    assert!(
        html.contains("Blood pressure 118/76 mmHg"),
        "the imported reading is readable"
    );
    assert!(html.contains("Blood pressure 165/112 mmHg"));
    assert!(
        html.contains("Severe range: urgent"),
        "the abnormal reading is marked"
    );
    assert!(html.contains("Within range"));
    assert!(
        !html.contains("systolic_mmhg"),
        "no reading is shown as JSON"
    );
    assert!(html.contains("Urgent: "), "the protocol's alert is listed");
    assert!(
        html.contains("Wren Testwell (synthetic)"),
        "the infant is listed"
    );
    assert!(html.contains("/clinician/messages?patient="));
    assert!(
        html.contains("<dt>Summary</dt>"),
        "the maternal entry's fields are named"
    );
    assert!(
        !html.contains(r#"{"summary""#) && !html.contains("{&quot;summary"),
        "no entry is shown as JSON"
    );
}

#[tokio::test]
async fn refused_viewer_gets_no_data() {
    let clinic = Clinic::build().await;

    let (status, html) = clinic.page(&clinic.outsider).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Not found, or you do not have access to it."));
    assert!(
        html.contains("href=\"/clinician/emergency\""),
        "break-glass is offered"
    );
    assert!(
        !html.contains("Testwell"),
        "no name of the patient or her infant"
    );
    assert!(!html.contains("Blood pressure 118/76"), "no reading");
    assert!(!html.contains("1993-05-02"), "no date of birth");
}

#[tokio::test]
async fn lactation_consultant_sees_no_screenings() {
    let clinic = Clinic::build().await;

    let (status, html) = clinic.page(&clinic.consultant).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Wren Testwell (synthetic)"),
        "infant data is hers to see"
    );
    let screenings = html
        .split("id=\"screenings-heading\"")
        .nth(1)
        .expect("the screening section is rendered");
    let screenings = screenings.split("</section>").next().unwrap();
    assert!(screenings.contains("Not available to your role."));
    assert!(
        !html.contains("EPDS totals"),
        "no trend of screening totals"
    );
    assert!(!html.contains("of 30"), "no EPDS score");
    assert!(
        !html.contains("Blood pressure 118/76"),
        "no maternal vitals"
    );
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
}

#[tokio::test]
async fn task_moves_through_states_with_history() {
    let mut clinic = Clinic::build().await;
    let task = insert_task(&mut clinic.conn, clinic.patient, DataCategory::Maternal).await;
    let update = |status: &str, note: &str| {
        vec![
            ("patient_id", clinic.patient.to_string()),
            ("category", "maternal".to_owned()),
            ("task_id", task.to_string()),
            ("status", status.to_owned()),
            ("note", note.to_owned()),
            purpose(),
        ]
    };

    let (status, body) = clinic
        .call(&clinic.midwife, "chart/tasks/update", &update("done", ""))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an open task is started first: {body}"
    );
    let (status, body) = clinic
        .call(
            &clinic.midwife,
            "chart/tasks/update",
            &update("in_progress", "Called her"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = clinic
        .call(
            &clinic.midwife,
            "chart/tasks/update",
            &update("done", "Reading normal"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = clinic
        .call(
            &clinic.midwife,
            "chart/tasks/update",
            &update("cancelled", ""),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a done task stays done");

    let list = [
        clinic.patient_argument(),
        ("category", "maternal".to_owned()),
        purpose(),
    ];
    let (status, tasks) = clinic.call(&clinic.midwife, "chart/tasks", &list).await;
    assert_eq!(status, StatusCode::OK, "{tasks}");
    assert_eq!(tasks[0]["status"], "done");
    let history = tasks[0]["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["status"], "in_progress");
    assert_eq!(history[0]["note"], "Called her");
    assert_eq!(history[0]["changed_by"], "Maya Midwife");
    assert_eq!(history[1]["status"], "done");

    let (status, _) = clinic
        .call(
            &clinic.consultant,
            "chart/tasks/update",
            &update("cancelled", ""),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "maternal tasks are not hers");
}

#[tokio::test]
async fn alert_acknowledged_once() {
    let mut clinic = Clinic::build().await;
    let observation: Row = diesel::sql_query(
        "SELECT id FROM observations WHERE patient_id = $1 AND kind = 'blood_pressure'",
    )
    .bind::<SqlUuid, _>(clinic.patient.0)
    .get_result(&mut clinic.conn)
    .await
    .unwrap();
    let observation = observation.id.to_string();
    let alert = insert_alert(
        &mut clinic.conn,
        clinic.patient,
        DataCategory::Maternal,
        &observation,
    )
    .await;
    let acknowledge = [
        clinic.patient_argument(),
        ("category", "maternal".to_owned()),
        ("alert_id", alert.to_string()),
        purpose(),
    ];

    let (status, body) = clinic
        .call(&clinic.consultant, "chart/alerts/acknowledge", &acknowledge)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for _ in 0..2 {
        let (status, body) = clinic
            .call(&clinic.midwife, "chart/alerts/acknowledge", &acknowledge)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let wrong_category = [
        clinic.patient_argument(),
        ("category", "infant".to_owned()),
        ("alert_id", alert.to_string()),
        purpose(),
    ];
    let (status, _) = clinic
        .call(&clinic.midwife, "chart/alerts/acknowledge", &wrong_category)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the alert is maternal");

    let list = [
        clinic.patient_argument(),
        ("category", "maternal".to_owned()),
        purpose(),
    ];
    let (status, alerts) = clinic.call(&clinic.midwife, "chart/alerts", &list).await;
    assert_eq!(status, StatusCode::OK, "{alerts}");
    assert_eq!(alerts[0]["id"], alert.to_string());
    assert!(alerts[0]["acknowledged_at"].is_string(), "{alerts}");
}

#[tokio::test]
async fn appointment_booking_validated() {
    let mut clinic = Clinic::build().await;
    let before = count_rows(&mut clinic.conn, "appointments", clinic.patient).await;
    let book = |clinician: String, starts_at: String, minutes: &str| {
        vec![
            ("patient_id", clinic.patient.to_string()),
            ("clinician", clinician),
            ("starts_at", starts_at),
            ("duration_minutes", minutes.to_owned()),
            ("kind", "postnatal_visit".to_owned()),
            purpose(),
        ]
    };
    let tomorrow = (Utc::now() + Duration::days(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let yesterday = (Utc::now() - Duration::days(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let midwife = clinic.midwife.user.to_string();
    let outsider = clinic.outsider.user.to_string();

    let rejected = [
        ("past start", book(midwife.clone(), yesterday, "30")),
        (
            "not a time",
            book(midwife.clone(), "next week".to_owned(), "30"),
        ),
        ("too long", book(midwife.clone(), tomorrow.clone(), "600")),
        ("off the team", book(outsider, tomorrow.clone(), "30")),
        (
            "unknown user",
            book(uuid::Uuid::new_v4().to_string(), tomorrow.clone(), "30"),
        ),
    ];
    for (case, arguments) in rejected {
        let (status, body) = clinic
            .call(&clinic.midwife, "chart/appointments/add", &arguments)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert!(body["message"].is_string(), "{case}: {body}");
    }
    assert_eq!(
        count_rows(&mut clinic.conn, "appointments", clinic.patient).await,
        before,
        "nothing was written"
    );

    let (status, body) = clinic
        .call(
            &clinic.midwife,
            "chart/appointments/add",
            &book(midwife, tomorrow, "45"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        count_rows(&mut clinic.conn, "appointments", clinic.patient).await,
        before + 1
    );
    let (status, schedule) = clinic
        .call(
            &clinic.midwife,
            "chart/schedule",
            &[clinic.patient_argument(), purpose()],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    let names: Vec<&Value> = schedule["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|appointment| &appointment["clinician_name"])
        .collect();
    assert!(names.contains(&&Value::from("Maya Midwife")), "{schedule}");
}

#[derive(QueryableByName)]
struct Outcome {
    #[diesel(sql_type = Text)]
    outcome: String,
}

#[tokio::test]
async fn patient_cannot_assign_herself_questionnaire() {
    let mut clinic = Clinic::build().await;
    let mother = persona(
        &clinic.app,
        &mut clinic.conn,
        clinic.clinic,
        "Ada Self",
        &[Role::Patient],
        0,
    )
    .await;
    let own = import(
        &clinic.app,
        &mut clinic.conn,
        clinic.clinic,
        clinic.midwife.user,
        Some(mother.user),
        Vec::new(),
    )
    .await;

    let arguments = [
        ("patient_id", own.to_string()),
        ("instrument", "phq9".to_owned()),
        ("purpose", "my own idea".to_owned()),
    ];
    let (status, body) = call_as(
        &clinic.app.router,
        &mother.cookie,
        "screenings/assign",
        &arguments,
        "self-assign",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        count_rows(&mut clinic.conn, "screening_assignments", own).await,
        0
    );
    let events: Vec<Outcome> =
        diesel::sql_query("SELECT outcome FROM data_access_audit WHERE request_id = $1")
            .bind::<Text, _>("self-assign")
            .load(&mut clinic.conn)
            .await
            .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, "denied");
}

#[derive(QueryableByName)]
struct Event {
    #[diesel(sql_type = Text)]
    outcome: String,
    #[diesel(sql_type = Text)]
    purpose: String,
    #[diesel(sql_type = diesel::sql_types::Array<Text>)]
    data_elements: Vec<String>,
}

/// Returns the audit events that the request `request_id` wrote.
async fn events_of(conn: &mut AsyncPgConnection, request_id: &str) -> Vec<Event> {
    diesel::sql_query(
        "SELECT outcome, purpose, data_elements FROM data_access_audit WHERE request_id = $1",
    )
    .bind::<Text, _>(request_id)
    .load(conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn chart_opens_in_one_request() {
    let mut clinic = Clinic::build().await;

    let (status, chart) = clinic
        .open(&clinic.consultant, PURPOSE, "open-consultant")
        .await;
    assert_eq!(status, StatusCode::OK, "{chart}");
    assert_eq!(
        chart["summary"], "NotForRole",
        "contact details are not hers"
    );
    assert_eq!(
        chart["screenings"], "NotForRole",
        "mental health is not hers"
    );
    assert_eq!(chart["vitals"], "NotForRole", "maternal data is not hers");
    let infants = chart["infants"]["Shown"].as_array().expect("infants shown");
    assert_eq!(infants[0]["infant"]["name"], "Wren Testwell (synthetic)");
    let events = events_of(&mut clinic.conn, "open-consultant").await;
    assert_eq!(events.len(), 1, "the chart's reads are one access");
    assert!(
        events[0].data_elements.len() >= 3,
        "each section read is named: {:?}",
        events[0].data_elements
    );
    assert!(events.iter().all(|event| event.outcome == "allowed"));
    assert!(events.iter().all(|event| event.purpose == PURPOSE));

    let (status, chart) = clinic.open(&clinic.midwife, PURPOSE, "open-midwife").await;
    assert_eq!(status, StatusCode::OK, "{chart}");
    assert_eq!(
        chart["summary"]["Shown"]["full_name"],
        "Mira Testwell (synthetic)"
    );
    let vitals = chart["vitals"]["Shown"].as_array().expect("vitals shown");
    assert!(
        vitals
            .iter()
            .any(|reading| reading["reading"] == "Blood pressure 118/76 mmHg")
    );

    let (status, body) = clinic
        .open(&clinic.outsider, PURPOSE, "open-outsider")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        body["message"],
        "Not found, or you do not have access to it."
    );
    let events = events_of(&mut clinic.conn, "open-outsider").await;
    assert_eq!(events.len(), 1, "one denial names every refused category");
    assert_eq!(events[0].outcome, "denied");
    assert!(
        events[0].data_elements.len() >= 4,
        "{:?}",
        events[0].data_elements
    );
    assert!(
        events[0]
            .data_elements
            .contains(&"category.contact".to_owned())
    );

    let (status, _) = clinic.open(&clinic.midwife, " ", "open-no-purpose").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a purpose is required");
    assert!(
        events_of(&mut clinic.conn, "open-no-purpose")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn chart_keeps_each_category_apart() {
    let mut clinic = Clinic::build().await;
    let note = |category: &str, body: &str| {
        vec![
            ("patient_id", clinic.patient.to_string()),
            ("category", category.to_owned()),
            ("body", body.to_owned()),
            purpose(),
        ]
    };
    for (category, body) in [
        ("maternal", "Perineum healing well"),
        ("infant", "Latch improving"),
        ("maternal", "Lochia normal"),
    ] {
        let (status, body) = clinic
            .call(&clinic.midwife, "chart/notes/add", &note(category, body))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let maternal_task = insert_task(&mut clinic.conn, clinic.patient, DataCategory::Maternal).await;
    insert_task(&mut clinic.conn, clinic.patient, DataCategory::Infant).await;
    let started = [
        clinic.patient_argument(),
        ("category", "maternal".to_owned()),
        ("task_id", maternal_task.to_string()),
        ("status", "in_progress".to_owned()),
        ("note", "Called her".to_owned()),
        purpose(),
    ];
    let (status, body) = clinic
        .call(&clinic.midwife, "chart/tasks/update", &started)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let observation: Row = diesel::sql_query(
        "SELECT id FROM observations WHERE patient_id = $1 AND kind = 'blood_pressure'",
    )
    .bind::<SqlUuid, _>(clinic.patient.0)
    .get_result(&mut clinic.conn)
    .await
    .unwrap();
    let observation = observation.id.to_string();
    for category in [
        DataCategory::Maternal,
        DataCategory::Infant,
        DataCategory::Infant,
    ] {
        insert_alert(&mut clinic.conn, clinic.patient, category, &observation).await;
    }

    let (status, chart) = clinic.open(&clinic.midwife, PURPOSE, "open-apart").await;
    assert_eq!(status, StatusCode::OK, "{chart}");
    let items_of = |part: &str, category: &str| -> Vec<Value> {
        let sections = chart[part].as_array().unwrap();
        let section = sections
            .iter()
            .find(|section| section[0] == category)
            .unwrap_or_else(|| panic!("no {part} section for {category}: {sections:?}"));
        section[1]["Shown"]
            .as_array()
            .unwrap_or_else(|| panic!("{part} of {category} not shown: {section}"))
            .clone()
    };
    let bodies = |category| -> Vec<String> {
        items_of("notes", category)
            .iter()
            .map(|note| note["body"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        bodies("maternal"),
        ["Perineum healing well", "Lochia normal"]
    );
    assert_eq!(bodies("infant"), ["Latch improving"]);
    let family_history = chart["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|section| section[0] == "family_history")
        .map(|section| section[1].clone());
    assert_eq!(family_history, Some(Value::from("NotForRole")));

    let maternal_tasks = items_of("tasks", "maternal");
    assert_eq!(maternal_tasks.len(), 1);
    assert_eq!(maternal_tasks[0]["id"], maternal_task.to_string());
    assert_eq!(
        maternal_tasks[0]["history"][0]["changed_by"],
        "Maya Midwife"
    );
    let infant_tasks = items_of("tasks", "infant");
    assert_eq!(infant_tasks.len(), 1);
    assert_eq!(infant_tasks[0]["category"], "infant");
    assert!(items_of("tasks", "care_logistics").is_empty());

    assert_eq!(items_of("alerts", "maternal").len(), 1);
    let infant_alerts = items_of("alerts", "infant");
    assert_eq!(infant_alerts.len(), 2);
    assert!(
        infant_alerts
            .iter()
            .all(|alert| alert["category"] == "infant")
    );

    let events = events_of(&mut clinic.conn, "open-apart").await;
    assert_eq!(
        events.len(),
        1,
        "the chart's reads are one access: {:?}",
        events.len()
    );
    let elements = &events[0].data_elements;
    for element in [
        "clinical_note.maternal",
        "clinical_note.infant",
        "care_task.maternal",
        "care_task.infant",
        "care_task.care_logistics",
        "care_alert.maternal",
        "care_alert.infant",
    ] {
        assert!(
            elements.iter().any(|name| name == element),
            "{element} in {elements:?}"
        );
    }
    assert!(
        !elements.iter().any(|name| name.ends_with("family_history")),
        "{elements:?}"
    );
}
