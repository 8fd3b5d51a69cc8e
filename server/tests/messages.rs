//! Secure messaging against real PostgreSQL: round trip, no leakage between patients, unread
//! counts, participants, plain-text bodies and one audit event per read and write.

mod support;

use app::audit::{AccessAction, ClientInfo, HistoryPage, patient_access_history};
use app::identity::Role;
use app::identity::server::accounts::{self, NewAccount};
use app::ids::{ClinicId, PatientId, ThreadId, UserId};
use app::records::{
    AccessContext, Classification, NewCareTeamMember, NewPatient, NewThread, RecordKeys,
    RecordsError, UnreadCount,
};
use chrono::{Duration, NaiveDate, Utc};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use support::TestApp;

/// A clinic with a midwife and a lactation consultant, two patients with portal accounts, and
/// both staff on each patient's care team.
struct Clinic {
    app: TestApp,
    conn: AsyncPgConnection,
    clinic_id: ClinicId,
    midwife: UserId,
    consultant: UserId,
    outsider: UserId,
    /// Each patient with her own account.
    patients: Vec<(PatientId, UserId)>,
}

impl Clinic {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let mut conn = support::connect(&app.database.url).await;
        let clinic_id = accounts::ensure_clinic(&mut conn, "harbour-clinic", "Harbour Clinic")
            .await
            .unwrap();
        let mut account = async |email: &str, role: Role| {
            let services = &app.state.services;
            let new = NewAccount {
                clinic_id,
                display_name: "Synthetic Person",
                email,
                roles: &[role],
                granted_by: None,
            };
            accounts::create_user(
                &mut conn,
                services.keys.as_ref(),
                &services.blind_index,
                new,
            )
            .await
            .unwrap()
        };
        let midwife = account("midwife@harbour.example", Role::Midwife).await;
        let consultant = account("lactation@harbour.example", Role::LactationConsultant).await;
        let outsider = account("gp@harbour.example", Role::PrimaryCareProvider).await;
        let first = account("mother1@harbour.example", Role::Patient).await;
        let second = account("mother2@harbour.example", Role::Patient).await;

        let mut clinic = Self {
            app,
            conn,
            clinic_id,
            midwife,
            consultant,
            outsider,
            patients: Vec::new(),
        };
        for (name, user) in [("Kaśka Nowak", first), ("Maren Oakhollow", second)] {
            let patient_id = clinic.patient(name, user).await;
            clinic.patients.push((patient_id, user));
        }
        clinic
    }

    async fn patient(&mut self, name: &str, user: UserId) -> PatientId {
        let new = NewPatient {
            user_id: Some(user),
            full_name: name.to_owned(),
            date_of_birth: NaiveDate::from_ymd_opt(1993, 6, 2).unwrap(),
            address: "3 Sample Lane, Testborough (synthetic)".to_owned(),
            phone: "+44 7700 900456".to_owned(),
        };
        let access = self.access(self.midwife, Role::Midwife);
        let keys = RecordKeys::from_services(&self.app.state.services);
        let patient_id = app::records::create_patient(&mut self.conn, keys, &access, &new)
            .await
            .unwrap();
        for (provider, role) in [
            (self.midwife, Role::Midwife),
            (self.consultant, Role::LactationConsultant),
        ] {
            let member = NewCareTeamMember {
                provider,
                role,
                starts_at: Utc::now() - Duration::days(1),
                ends_at: None,
            };
            app::records::add_care_team_member(&mut self.conn, &access, patient_id, &member)
                .await
                .unwrap();
        }
        patient_id
    }

    fn access(&self, actor: UserId, role: Role) -> AccessContext {
        AccessContext {
            actor,
            actor_roles: vec![role],
            clinic_id: self.clinic_id,
            purpose: "postnatal messaging".to_owned(),
            emergency: false,
            client: ClientInfo::default(),
        }
    }

    async fn start(&mut self, patient: usize, subject: &str, body: &str) -> ThreadId {
        let (patient_id, patient_user) = self.patients[patient];
        let new = NewThread {
            classification: Classification::Maternal,
            subject: subject.to_owned(),
            participants: vec![patient_user],
            first_message: body.to_owned(),
        };
        let access = self.access(self.midwife, Role::Midwife);
        let keys = RecordKeys::from_services(&self.app.state.services);
        app::records::start_thread(&mut self.conn, keys, &access, patient_id, &new)
            .await
            .unwrap()
    }

    async fn send(&mut self, sender: UserId, role: Role, thread: ThreadId, body: &str) {
        let access = self.access(sender, role);
        let keys = RecordKeys::from_services(&self.app.state.services);
        app::records::send_message(&mut self.conn, keys, &access, thread, body)
            .await
            .unwrap();
    }

    async fn unread(&mut self, user: UserId, role: Role) -> Vec<UnreadCount> {
        let access = self.access(user, role);
        app::records::unread_counts(&mut self.conn, &access)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn thread_round_trips_plain_text() {
    let mut clinic = Clinic::new().await;
    let (patient_id, mother) = clinic.patients[0];
    let markup = "Feeding went well <script>alert('x')</script> &amp; <b>no</b> markup";
    let thread = clinic
        .start(0, "Latch at night", "How is feeding going?")
        .await;
    clinic.send(mother, Role::Patient, thread, markup).await;

    let access = clinic.access(clinic.midwife, Role::Midwife);
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let read = app::records::read_thread(&mut clinic.conn, keys, &access, thread)
        .await
        .unwrap();

    assert_eq!(read.patient_id, patient_id);
    assert_eq!(read.subject, "Latch at night");
    assert_eq!(read.classification, Classification::Maternal);
    let mut expected_participants = vec![clinic.midwife, mother];
    expected_participants.sort();
    assert_eq!(read.participants, expected_participants);
    let bodies: Vec<(i64, UserId, &str)> = read
        .messages
        .iter()
        .map(|message| (message.sequence, message.sender, message.body.as_str()))
        .collect();
    assert_eq!(
        bodies,
        [
            (1, clinic.midwife, "How is feeding going?"),
            (2, mother, markup)
        ]
    );
    assert!(!format!("{read:?}").contains("feeding"));
}

#[tokio::test]
async fn stored_bodies_are_encrypted() {
    let mut clinic = Clinic::new().await;
    clinic.start(0, "Sleep", "Wake-window question").await;

    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        body_ciphertext: Vec<u8>,
    }
    let stored: Stored = diesel::sql_query("SELECT body_ciphertext FROM messages")
        .get_result(&mut clinic.conn)
        .await
        .unwrap();
    let needle = b"Wake-window";
    assert!(
        !stored
            .body_ciphertext
            .windows(needle.len())
            .any(|window| window == needle)
    );
}

#[tokio::test]
async fn threads_do_not_leak_between_patients() {
    let mut clinic = Clinic::new().await;
    let (_, first_mother) = clinic.patients[0];
    let (_, second_mother) = clinic.patients[1];
    let first = clinic.start(0, "First", "For the first mother").await;
    let second = clinic.start(1, "Second", "For the second mother").await;

    let access = clinic.access(second_mother, Role::Patient);
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let foreign = app::records::read_thread(&mut clinic.conn, keys, &access, first).await;
    assert!(
        matches!(foreign, Err(RecordsError::NotFound)),
        "{foreign:?}"
    );
    let sent = app::records::send_message(&mut clinic.conn, keys, &access, first, "hello").await;
    assert!(matches!(sent, Err(RecordsError::NotFound)), "{sent:?}");
    let own = app::records::read_thread(&mut clinic.conn, keys, &access, second)
        .await
        .unwrap();
    assert_eq!(own.messages[0].body, "For the second mother");

    let first_counts = clinic.unread(first_mother, Role::Patient).await;
    let second_counts = clinic.unread(second_mother, Role::Patient).await;
    let threads = |counts: &[UnreadCount]| -> Vec<ThreadId> {
        counts.iter().map(|count| count.thread_id).collect()
    };
    assert_eq!(threads(&first_counts), [first]);
    assert_eq!(threads(&second_counts), [second]);

    // A ciphertext moved to the other patient's thread does not decrypt under her key.
    diesel::sql_query(
        "UPDATE messages SET body_ciphertext = (SELECT body_ciphertext FROM messages \
         WHERE thread_id = $1) WHERE thread_id = $2",
    )
    .bind::<diesel::sql_types::Uuid, _>(first.0)
    .bind::<diesel::sql_types::Uuid, _>(second.0)
    .execute(&mut clinic.conn)
    .await
    .unwrap();
    let moved = app::records::read_thread(&mut clinic.conn, keys, &access, second).await;
    assert!(
        matches!(moved, Err(RecordsError::Decryption { .. })),
        "{moved:?}"
    );
}

#[tokio::test]
async fn unread_counts_follow_reads() {
    let mut clinic = Clinic::new().await;
    let (_, mother) = clinic.patients[0];
    let thread = clinic.start(0, "Check-in", "How are you feeling?").await;
    clinic
        .send(clinic.midwife, Role::Midwife, thread, "Any pain?")
        .await;

    let unread = |counts: Vec<UnreadCount>| -> Vec<i64> {
        counts.iter().map(|count| count.unread).collect()
    };
    assert_eq!(unread(clinic.unread(mother, Role::Patient).await), [2]);
    assert_eq!(
        unread(clinic.unread(clinic.midwife, Role::Midwife).await),
        [0]
    );

    let access = clinic.access(mother, Role::Patient);
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    app::records::read_thread(&mut clinic.conn, keys, &access, thread)
        .await
        .unwrap();
    assert_eq!(unread(clinic.unread(mother, Role::Patient).await), [0]);

    clinic
        .send(mother, Role::Patient, thread, "A little sore")
        .await;
    clinic
        .send(clinic.midwife, Role::Midwife, thread, "Rest today")
        .await;
    assert_eq!(unread(clinic.unread(mother, Role::Patient).await), [1]);
    assert_eq!(
        unread(clinic.unread(clinic.midwife, Role::Midwife).await),
        [1]
    );
    assert!(
        clinic
            .unread(clinic.outsider, Role::PrimaryCareProvider)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn only_patient_and_care_team_take_part() {
    let mut clinic = Clinic::new().await;
    let (patient_id, _) = clinic.patients[0];
    let (_, other_mother) = clinic.patients[1];
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let access = clinic.access(clinic.midwife, Role::Midwife);

    for participant in [clinic.outsider, other_mother] {
        let new = NewThread {
            classification: Classification::Infant,
            subject: "Weight".to_owned(),
            participants: vec![participant],
            first_message: "Weigh-in on Monday".to_owned(),
        };
        let result =
            app::records::start_thread(&mut clinic.conn, keys, &access, patient_id, &new).await;
        assert!(
            matches!(result, Err(RecordsError::InvalidInput(_))),
            "{result:?}"
        );
    }
    let blank = NewThread {
        classification: Classification::Infant,
        subject: "Weight".to_owned(),
        participants: vec![clinic.consultant],
        first_message: "  ".to_owned(),
    };
    let result =
        app::records::start_thread(&mut clinic.conn, keys, &access, patient_id, &blank).await;
    assert!(
        matches!(result, Err(RecordsError::InvalidInput(_))),
        "{result:?}"
    );
    let thread = clinic
        .start(0, "Subset", "Only the midwife and the mother")
        .await;
    let consultant = clinic.access(clinic.consultant, Role::LactationConsultant);
    let result = app::records::read_thread(&mut clinic.conn, keys, &consultant, thread).await;
    assert!(matches!(result, Err(RecordsError::NotFound)), "{result:?}");
}

#[tokio::test]
async fn each_read_and_write_is_audited() {
    let mut clinic = Clinic::new().await;
    let (patient_id, mother) = clinic.patients[0];
    let page = HistoryPage {
        limit: 100,
        before: None,
    };
    let before = patient_access_history(&mut clinic.conn, patient_id, page)
        .await
        .unwrap()
        .len();
    let thread = clinic.start(0, "Audit", "First").await;
    clinic.send(mother, Role::Patient, thread, "Second").await;
    let access = clinic.access(mother, Role::Patient);
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    app::records::read_thread(&mut clinic.conn, keys, &access, thread)
        .await
        .unwrap();

    let events = patient_access_history(&mut clinic.conn, patient_id, page)
        .await
        .unwrap();
    let recent: Vec<(AccessAction, Option<UserId>, Vec<String>)> = events[..events.len() - before]
        .iter()
        .map(|event| {
            (
                event.action,
                event.actor_user_id,
                event.data_elements.clone(),
            )
        })
        .collect();
    let both = vec![
        "message_thread.subject".to_owned(),
        "message.body".to_owned(),
    ];
    assert_eq!(
        recent,
        [
            (AccessAction::Read, Some(mother), both.clone()),
            (
                AccessAction::Write,
                Some(mother),
                vec!["message.body".to_owned()]
            ),
            (AccessAction::Write, Some(clinic.midwife), both),
        ]
    );
}

#[derive(diesel::QueryableByName)]
struct Prepared {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

#[tokio::test]
async fn thread_list_prepared_once_per_connection() {
    let mut clinic = Clinic::new().await;
    let (patient, mother) = clinic.patients[0];
    let (other_patient, _) = clinic.patients[1];
    clinic.start(0, "Check-in", "How are you feeling?").await;

    for only in [None, Some(patient), None] {
        let threads = app::records::list_threads(&mut clinic.conn, clinic.clinic_id, mother, only)
            .await
            .unwrap();
        assert_eq!(threads.len(), 1, "listing of {only:?}");
        assert_eq!(threads[0].patient_id, patient);
    }
    let of_another = app::records::list_threads(
        &mut clinic.conn,
        clinic.clinic_id,
        mother,
        Some(other_patient),
    )
    .await
    .unwrap();
    assert!(of_another.is_empty(), "no thread of another patient");

    // The text is split so that this query does not count itself.
    let prepared: Prepared = diesel::sql_query(
        "SELECT count(*) AS count FROM pg_prepared_statements \
         WHERE position('AS ' || 'unread' IN statement) > 0",
    )
    .get_result(&mut clinic.conn)
    .await
    .unwrap();
    assert_eq!(prepared.count, 1, "four listings, one prepared statement");
}
