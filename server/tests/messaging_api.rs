//! Secure messaging through the real router: starting, listing, reading and answering threads
//! as a mother and as members of her care team, unread counts, the audit trail, message events,
//! input limits, and that nobody outside a thread, another mother included, learns of it.

mod support;

use app::identity::Role;
use app::ids::{ClinicId, PatientId, UserId};
use app::records::{ImportedPatient, NewCareTeamMember, NewPatient};
use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use support::TestApp;
use support::matrix::Consent;
use support::personas::{Persona, call_as, persona};

/// Text that a browser would render as markup if it were not escaped.
const MARKUP: &str = "<b>hello</b><script>alert(1)</script>";

/// A clinic with two mothers. The first has a midwife, a GP and a lactation consultant on her
/// care team; the second has her own midwife. A third midwife is on nobody's team.
struct Clinic {
    app: TestApp,
    conn: AsyncPgConnection,
    mother: Persona,
    patient: PatientId,
    midwife: Persona,
    gp: Persona,
    lactation: Persona,
    other_mother: Persona,
    other_patient: PatientId,
    other_midwife: Persona,
    outsider: Persona,
}

fn member(persona: &Persona, role: Role) -> NewCareTeamMember {
    NewCareTeamMember {
        provider: persona.user,
        role,
        starts_at: Utc::now() - Duration::days(3),
        ends_at: None,
    }
}

async fn import_mother(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    account: &Persona,
    care_team: Vec<NewCareTeamMember>,
) -> PatientId {
    let record = ImportedPatient {
        patient: NewPatient {
            user_id: Some(account.user),
            full_name: "Lena Messager (synthetic)".to_owned(),
            date_of_birth: NaiveDate::from_ymd_opt(1994, 7, 9).unwrap(),
            address: "3 Example Close, Testville (synthetic)".to_owned(),
            phone: "+44 7700 900003".to_owned(),
        },
        author: account.user,
        infants: Vec::new(),
        observations: Vec::new(),
        entries: Vec::new(),
        care_team,
        appointments: Vec::new(),
        threads: Vec::new(),
    };
    let keys = app::records::RecordKeys::from_services(&app.state.services);
    app::records::import_patients(conn, keys, clinic, "synthetic test data", &[record])
        .await
        .unwrap()
        .remove(0)
}

impl Clinic {
    async fn build() -> Self {
        let app = TestApp::new().await;
        let mut conn = support::connect(&app.database.url).await;
        let clinic = support::create_clinic(&mut conn, "willow").await;
        let mut make =
            async |name: &str, role: Role| persona(&app, &mut conn, clinic, name, &[role], 0).await;
        let mother = make("Lena Messager", Role::Patient).await;
        let midwife = make("Maya Midwife", Role::Midwife).await;
        let gp = make("Gale Practitioner", Role::PrimaryCareProvider).await;
        let lactation = make("Lara Latch", Role::LactationConsultant).await;
        let other_mother = make("Orla Other", Role::Patient).await;
        let other_midwife = make("Olive Midwife", Role::Midwife).await;
        let outsider = make("Oona Outside", Role::Midwife).await;

        let team = vec![
            member(&midwife, Role::Midwife),
            member(&gp, Role::PrimaryCareProvider),
            member(&lactation, Role::LactationConsultant),
        ];
        let patient = import_mother(&app, &mut conn, clinic, &mother, team).await;
        let team = vec![member(&other_midwife, Role::Midwife)];
        let other_patient = import_mother(&app, &mut conn, clinic, &other_mother, team).await;
        for record in [patient, other_patient] {
            support::consents::set_consent(&app, &mut conn, record, Consent::Granted).await;
        }
        Self {
            app,
            conn,
            mother,
            patient,
            midwife,
            gp,
            lactation,
            other_mother,
            other_patient,
            other_midwife,
            outsider,
        }
    }

    async fn call(
        &self,
        persona: &Persona,
        endpoint: &str,
        arguments: &[(&'static str, String)],
        request_id: &str,
    ) -> (StatusCode, Value) {
        call_as(
            &self.app.router,
            &persona.cookie,
            endpoint,
            arguments,
            request_id,
        )
        .await
    }

    /// Starts a thread as `sender` and returns its id.
    async fn start(
        &self,
        sender: &Persona,
        topic: &str,
        members: &[&Persona],
        body: &str,
    ) -> String {
        let (status, value) = self
            .call(
                sender,
                "messages/start",
                &start_arguments(topic, members, body),
                "start",
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value.as_str().unwrap().to_owned()
    }

    async fn read(&self, reader: &Persona, thread: &str) -> (StatusCode, Value) {
        let arguments = [("thread_id", thread.to_owned())];
        self.call(reader, "messages/thread", &arguments, "read")
            .await
    }

    async fn send(&self, sender: &Persona, thread: &str, body: &str) -> (StatusCode, Value) {
        let arguments = [("thread_id", thread.to_owned()), ("body", body.to_owned())];
        self.call(sender, "messages/send", &arguments, "send").await
    }

    async fn unread(&self, reader: &Persona) -> i64 {
        let (status, value) = self.call(reader, "messages/unread", &[], "unread").await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value.as_i64().unwrap()
    }

    async fn threads(&self, reader: &Persona) -> Vec<Value> {
        let (status, value) = self.call(reader, "messages/threads", &[], "list").await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value.as_array().unwrap().clone()
    }

    async fn message_count(&mut self, thread: &str) -> i64 {
        scalar(
            &mut self.conn,
            "SELECT message_count AS value FROM message_threads WHERE id = $1::uuid",
            thread,
        )
        .await
    }

    async fn thread_count(&mut self, patient: PatientId) -> i64 {
        scalar(
            &mut self.conn,
            "SELECT count(*) AS value FROM message_threads WHERE patient_id = $1::uuid",
            &patient.to_string(),
        )
        .await
    }
}

fn start_arguments(topic: &str, members: &[&Persona], body: &str) -> Vec<(&'static str, String)> {
    const MEMBER_KEYS: [&str; 3] = ["members[0]", "members[1]", "members[2]"];
    let mut arguments = vec![
        ("topic", topic.to_owned()),
        ("subject", "Questions after the birth".to_owned()),
        ("body", body.to_owned()),
    ];
    for (key, member) in MEMBER_KEYS.iter().zip(members) {
        arguments.push((key, member.user.to_string()));
    }
    arguments
}

#[derive(QueryableByName)]
struct Scalar {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

async fn scalar(conn: &mut AsyncPgConnection, statement: &str, id: &str) -> i64 {
    diesel::sql_query(statement)
        .bind::<Text, _>(id)
        .get_result::<Scalar>(conn)
        .await
        .unwrap()
        .value
}

#[derive(Debug, QueryableByName)]
struct AuditRow {
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    outcome: String,
}

/// Returns the (action, outcome) pairs of the audit events recorded for one request id.
async fn audit_of(conn: &mut AsyncPgConnection, request_id: &str) -> Vec<(String, String)> {
    diesel::sql_query("SELECT action, outcome FROM data_access_audit WHERE request_id = $1")
        .bind::<Text, _>(request_id)
        .load::<AuditRow>(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.action, row.outcome))
        .collect()
}

fn pair(action: &str, outcome: &str) -> (String, String) {
    (action.to_owned(), outcome.to_owned())
}

#[derive(QueryableByName)]
struct EventRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Array<SqlUuid>)]
    recipients: Vec<uuid::Uuid>,
}

/// Returns the kind and recipients of every care event about a thread, oldest first.
async fn events_of(conn: &mut AsyncPgConnection, thread: &str) -> Vec<(String, Vec<UserId>)> {
    diesel::sql_query(
        "SELECT kind, recipients FROM care_events WHERE subject_id = $1::uuid ORDER BY id",
    )
    .bind::<Text, _>(thread)
    .load::<EventRow>(conn)
    .await
    .unwrap()
    .into_iter()
    .map(|row| (row.kind, row.recipients.into_iter().map(UserId).collect()))
    .collect()
}

#[tokio::test]
async fn unread_counts_follow_reads_and_replies() {
    let clinic = Clinic::build().await;
    let thread = clinic
        .start(&clinic.mother, "maternal", &[&clinic.midwife], MARKUP)
        .await;
    assert_eq!(clinic.unread(&clinic.mother).await, 0, "her own message");
    assert_eq!(clinic.unread(&clinic.midwife).await, 1);
    let listed = clinic.threads(&clinic.midwife).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], thread.as_str());
    assert_eq!(listed[0]["unread"], 1);
    assert_eq!(listed[0]["topic"], "maternal");
    assert_eq!(listed[0]["subject"], "Questions after the birth");

    let (status, opened) = clinic.read(&clinic.midwife, &thread).await;
    assert_eq!(status, StatusCode::OK, "{opened}");
    assert_eq!(opened["messages"][0]["body"], MARKUP, "stored as written");
    assert_eq!(opened["subject"], "Questions after the birth");
    assert_eq!(clinic.unread(&clinic.midwife).await, 0);
    assert_eq!(clinic.threads(&clinic.midwife).await[0]["unread"], 0);

    let (status, body) = clinic.send(&clinic.midwife, &thread, "All normal.").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = clinic
        .send(&clinic.midwife, &thread, "Call if it worsens.")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(clinic.unread(&clinic.mother).await, 2);
    assert_eq!(clinic.unread(&clinic.midwife).await, 0, "her own replies");

    let (status, opened) = clinic.read(&clinic.mother, &thread).await;
    assert_eq!(status, StatusCode::OK, "{opened}");
    assert_eq!(opened["messages"].as_array().unwrap().len(), 3);
    assert_eq!(opened["messages"][2]["body"], "Call if it worsens.");
    assert_eq!(opened["messages"][0]["from_me"], true);
    assert_eq!(clinic.unread(&clinic.mother).await, 0);
}

#[tokio::test]
async fn every_read_and_write_is_audited() {
    let mut clinic = Clinic::build().await;
    let thread = clinic
        .start(
            &clinic.mother,
            "infant",
            &[&clinic.lactation],
            "Evening feeds?",
        )
        .await;
    assert_eq!(
        audit_of(&mut clinic.conn, "start").await,
        [pair("write", "allowed")]
    );

    let (status, _) = clinic.read(&clinic.lactation, &thread).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        audit_of(&mut clinic.conn, "read").await,
        [pair("read", "allowed")]
    );

    let (status, _) = clinic
        .send(&clinic.lactation, &thread, "Quite normal.")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        audit_of(&mut clinic.conn, "send").await,
        [pair("write", "allowed")]
    );

    clinic.threads(&clinic.lactation).await;
    assert_eq!(
        audit_of(&mut clinic.conn, "list").await,
        [pair("read", "allowed")]
    );

    let arguments = [("patient_id", clinic.patient.to_string())];
    let (status, _) = clinic
        .call(
            &clinic.lactation,
            "messages/contacts",
            &arguments,
            "contacts",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        audit_of(&mut clinic.conn, "contacts").await,
        [pair("read", "allowed")]
    );
}

#[tokio::test]
async fn other_mothers_thread_looks_unknown() {
    let mut clinic = Clinic::build().await;
    let theirs = clinic
        .start(
            &clinic.other_mother,
            "maternal",
            &[&clinic.other_midwife],
            "Private",
        )
        .await;
    let ours = clinic
        .start(&clinic.mother, "maternal", &[&clinic.midwife], "Ours")
        .await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let (unknown_status, unknown_body) = clinic.read(&clinic.mother, &unknown).await;
    assert_eq!(unknown_status, StatusCode::NOT_FOUND);
    let (status, body) = clinic.read(&clinic.mother, &theirs).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body, unknown_body,
        "another mother's thread reads as an unknown one"
    );
    let (status, body) = clinic.send(&clinic.mother, &theirs, "Hello").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, unknown_body);
    assert_eq!(clinic.message_count(&theirs).await, 1);

    let (status, _) = clinic.read(&clinic.other_mother, &ours).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mine = clinic.threads(&clinic.mother).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["id"], ours.as_str());
    assert_eq!(clinic.threads(&clinic.other_mother).await.len(), 1);

    let mut arguments = start_arguments("maternal", &[&clinic.other_midwife], "Hello");
    arguments.push(("patient_id", clinic.other_patient.to_string()));
    let before = clinic.thread_count(clinic.other_patient).await;
    let (status, _) = clinic
        .call(&clinic.mother, "messages/start", &arguments, "start-other")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(clinic.thread_count(clinic.other_patient).await, before);
    let arguments = [("patient_id", clinic.other_patient.to_string())];
    let (status, _) = clinic
        .call(
            &clinic.mother,
            "messages/contacts",
            &arguments,
            "contacts-other",
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn non_participant_refused_and_audited() {
    let mut clinic = Clinic::build().await;
    let thread = clinic
        .start(
            &clinic.mother,
            "maternal",
            &[&clinic.midwife],
            "Only for the midwife",
        )
        .await;

    for (reader, request_id) in [(&clinic.gp, "read-gp"), (&clinic.outsider, "read-outsider")] {
        let arguments = [("thread_id", thread.clone())];
        let (status, _) = clinic
            .call(reader, "messages/thread", &arguments, request_id)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let audited = audit_of(&mut clinic.conn, request_id).await;
        assert_eq!(audited, [pair("read", "denied")]);
    }
    let (status, _) = clinic
        .send(&clinic.gp, &thread, "Let me add something")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        audit_of(&mut clinic.conn, "send").await,
        [pair("write", "denied")]
    );
    assert_eq!(clinic.message_count(&thread).await, 1);
    assert!(clinic.threads(&clinic.gp).await.is_empty());
    assert_eq!(clinic.unread(&clinic.gp).await, 0);
}

#[tokio::test]
async fn removed_member_loses_access() {
    let mut clinic = Clinic::build().await;
    let thread = clinic
        .start(
            &clinic.mother,
            "maternal",
            &[&clinic.midwife, &clinic.gp],
            "Hello both",
        )
        .await;
    diesel::sql_query(
        "UPDATE care_team_members SET ends_at = now() - interval '1 minute' \
         WHERE provider_user_id = $1",
    )
    .bind::<SqlUuid, _>(clinic.midwife.user.0)
    .execute(&mut clinic.conn)
    .await
    .unwrap();

    let (status, _) = clinic.read(&clinic.midwife, &thread).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = clinic.send(&clinic.midwife, &thread, "Still here?").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(clinic.message_count(&thread).await, 1);
    assert!(clinic.threads(&clinic.midwife).await.is_empty());
    assert_eq!(clinic.unread(&clinic.midwife).await, 0);

    let (status, _) = clinic.send(&clinic.mother, &thread, "Anyone?").await;
    assert_eq!(status, StatusCode::OK);
    let events = events_of(&mut clinic.conn, &thread).await;
    let (_, recipients) = events.last().unwrap();
    assert_eq!(
        recipients,
        &vec![clinic.gp.user],
        "only current members hear of it"
    );
}

#[tokio::test]
async fn empty_and_oversized_messages_rejected() {
    let mut clinic = Clinic::build().await;
    let thread = clinic
        .start(&clinic.mother, "maternal", &[&clinic.midwife], "First")
        .await;
    let oversized = "a".repeat(app::messaging::MAX_BODY_CHARS + 1);
    for body in ["", "   \n ", oversized.as_str()] {
        let (status, value) = clinic.send(&clinic.mother, &thread, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{value}");
        assert!(
            value["message"].as_str().unwrap().contains("message"),
            "{value}"
        );
    }
    assert_eq!(clinic.message_count(&thread).await, 1);
    let longest = "é".repeat(app::messaging::MAX_BODY_CHARS);
    let (status, _) = clinic.send(&clinic.mother, &thread, &longest).await;
    assert_eq!(status, StatusCode::OK, "the maximum length is allowed");

    let before = clinic.thread_count(clinic.patient).await;
    let midwife = [&clinic.midwife];
    let cases = [
        start_arguments("maternal", &midwife, ""),
        start_arguments("maternal", &midwife, &oversized),
        start_arguments("contact", &midwife, "Hello"),
        {
            let mut arguments = start_arguments("maternal", &midwife, "Hello");
            arguments[1].1 = "s".repeat(app::messaging::MAX_SUBJECT_CHARS + 1);
            arguments
        },
        start_arguments("maternal", &[], "Nobody to write to"),
    ];
    for arguments in cases {
        let (status, value) = clinic
            .call(&clinic.mother, "messages/start", &arguments, "bad-start")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{value}");
    }
    assert_eq!(clinic.thread_count(clinic.patient).await, before);
}

#[tokio::test]
async fn member_who_cannot_read_topic_rejected() {
    let mut clinic = Clinic::build().await;
    let before = clinic.thread_count(clinic.patient).await;
    for (topic, member) in [
        ("mental_health", &clinic.midwife),
        ("maternal", &clinic.lactation),
        ("maternal", &clinic.outsider),
    ] {
        let arguments = start_arguments(topic, &[member], "Hello");
        let (status, value) = clinic
            .call(&clinic.mother, "messages/start", &arguments, "topic")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{topic}: {value}");
    }
    assert_eq!(clinic.thread_count(clinic.patient).await, before);

    let arguments = [("patient_id", clinic.patient.to_string())];
    let (status, contacts) = clinic
        .call(&clinic.mother, "messages/contacts", &arguments, "contacts")
        .await;
    assert_eq!(status, StatusCode::OK, "{contacts}");
    let midwife = contacts
        .as_array()
        .unwrap()
        .iter()
        .find(|contact| contact["user_id"] == clinic.midwife.user.to_string())
        .unwrap();
    assert_eq!(midwife["roles"], "Midwife");
    assert_eq!(midwife["topics"], serde_json::json!(["maternal", "infant"]));
    assert_eq!(contacts.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn message_event_reaches_other_participants_only() {
    let mut clinic = Clinic::build().await;
    let thread = clinic
        .start(
            &clinic.mother,
            "maternal",
            &[&clinic.midwife, &clinic.gp],
            "Hello",
        )
        .await;
    let (status, _) = clinic.send(&clinic.midwife, &thread, "Hello back").await;
    assert_eq!(status, StatusCode::OK);

    let events = events_of(&mut clinic.conn, &thread).await;
    assert_eq!(events.len(), 2);
    let mut started = events[0].1.clone();
    started.sort();
    let mut expected = vec![clinic.midwife.user, clinic.gp.user];
    expected.sort();
    assert_eq!(events[0].0, "message");
    assert_eq!(started, expected, "the mother started it");
    let mut replied = events[1].1.clone();
    replied.sort();
    let mut expected = vec![clinic.mother.user, clinic.gp.user];
    expected.sort();
    assert_eq!(replied, expected, "the midwife replied");

    let (status, _) = clinic.send(&clinic.midwife, &thread, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(events_of(&mut clinic.conn, &thread).await.len(), 2);
}

#[tokio::test]
async fn clinician_thread_filtered_by_patient() {
    let clinic = Clinic::build().await;
    let mut arguments = start_arguments("maternal", &[&clinic.gp], "Your blood pressure");
    arguments.push(("patient_id", clinic.patient.to_string()));
    let (status, thread) = clinic
        .call(
            &clinic.midwife,
            "messages/start",
            &arguments,
            "clinician-start",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{thread}");
    assert_eq!(
        clinic.unread(&clinic.mother).await,
        1,
        "the patient always takes part"
    );
    assert_eq!(clinic.unread(&clinic.gp).await, 1);

    let filter = [("patient_id", clinic.patient.to_string())];
    let (status, listed) = clinic
        .call(&clinic.midwife, "messages/threads", &filter, "filter")
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let filter = [("patient_id", clinic.other_patient.to_string())];
    let (status, listed) = clinic
        .call(&clinic.midwife, "messages/threads", &filter, "filter-other")
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(
        listed,
        serde_json::json!([]),
        "she takes part in none of hers"
    );
    let filter = [
        ("patient_id", clinic.other_patient.to_string()),
        ("topic", "maternal".to_owned()),
    ];
    let (status, _) = clinic
        .call(&clinic.midwife, "messages/threads", &filter, "filter-topic")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not on her care team");
}

#[tokio::test]
async fn break_glass_starts_no_thread() {
    let mut clinic = Clinic::build().await;
    let now = Utc::now();
    support::matrix::insert_grant(
        &mut clinic.conn,
        clinic.outsider.clinic,
        clinic.patient,
        clinic.outsider.user,
        now - Duration::hours(1),
        now + Duration::hours(3),
    )
    .await;
    let before = clinic.thread_count(clinic.patient).await;
    let mut arguments = start_arguments("maternal", &[&clinic.midwife], "Emergency question");
    arguments.push(("patient_id", clinic.patient.to_string()));

    let (status, _) = clinic
        .call(&clinic.outsider, "messages/start", &arguments, "glass")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        audit_of(&mut clinic.conn, "glass").await,
        [pair("write", "denied")]
    );
    assert_eq!(clinic.thread_count(clinic.patient).await, before);
}
