//! Care protocols on observations stored through the record store: tasks and alerts for the
//! right care-team members, the settings version and threshold recorded with each firing,
//! audited settings changes, the care events that tell the team, and task history.

mod support;

use app::access::guard::{Actor, authorize};
use app::access::{Action, DataCategory};
use app::audit::ClientInfo;
use app::clinical::growth::Sex;
use app::clinical::screening::EpdsThresholds;
use app::clinical::units::{Entered, MassUnit, PressureUnit};
use app::clinical::vitals::BloodPressureReading;
use app::identity::Role;
use app::identity::server::accounts::{self, NewAccount};
use app::ids::{ClinicId, InfantId, PatientId, UserId};
use app::protocols::{self, ProtocolSettings, Rule, TaskStatus};
use app::records::{
    AccessContext, NewCareTeamMember, NewInfant, NewObservation, NewPatient, ObservationValue,
    RecordKeys,
};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use support::TestApp;
use support::matrix::Consent;

/// A clinic with a patient whose care team has a GP, a midwife, a mental health specialist and
/// a lactation consultant, and whose care consent is granted.
struct Ward {
    app: TestApp,
    conn: AsyncPgConnection,
    clinic: ClinicId,
    patient: PatientId,
    gp: UserId,
    midwife: UserId,
    specialist: UserId,
    consultant: UserId,
    admin: UserId,
}

impl Ward {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let mut conn = support::connect(&app.database.url).await;
        let clinic = accounts::ensure_clinic(&mut conn, "willow-clinic", "Willow Clinic")
            .await
            .unwrap();
        let mut staff = Vec::new();
        for (email, role) in [
            ("gp@willow.example", Role::PrimaryCareProvider),
            ("midwife@willow.example", Role::Midwife),
            ("mind@willow.example", Role::MentalHealthSpecialist),
            ("feeding@willow.example", Role::LactationConsultant),
            ("admin@willow.example", Role::Admin),
        ] {
            staff.push(create_staff(&app, &mut conn, clinic, email, role).await);
        }
        let [gp, midwife, specialist, consultant, admin] = staff[..] else {
            unreachable!()
        };
        let keys = RecordKeys::from_services(&app.state.services);
        let setup = context(clinic, gp, Role::PrimaryCareProvider);
        let patient = app::records::create_patient(&mut conn, keys, &setup, &new_patient())
            .await
            .unwrap();
        for (provider, role) in [
            (gp, Role::PrimaryCareProvider),
            (midwife, Role::Midwife),
            (specialist, Role::MentalHealthSpecialist),
            (consultant, Role::LactationConsultant),
        ] {
            let member = NewCareTeamMember {
                provider,
                role,
                starts_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                ends_at: None,
            };
            app::records::add_care_team_member(&mut conn, &setup, patient, &member)
                .await
                .unwrap();
        }
        support::consents::set_consent(&app, &mut conn, patient, Consent::Granted).await;
        Self {
            app,
            conn,
            clinic,
            patient,
            gp,
            midwife,
            specialist,
            consultant,
            admin,
        }
    }

    /// Records `value` as the midwife would (or the GP for mental health screens).
    async fn observe(&mut self, value: ObservationValue, infant: Option<InfantId>) -> uuid::Uuid {
        let category = app::records::observation_category(value.kind(), infant.is_some());
        let (user, role) = match category {
            DataCategory::MentalHealth => (self.gp, Role::PrimaryCareProvider),
            _ => (self.midwife, Role::Midwife),
        };
        let actor = actor(self.clinic, user, role);
        let authorization = authorize(
            &mut self.conn,
            &actor,
            self.patient,
            category,
            Action::Write,
            "postnatal visit",
        )
        .await
        .unwrap();
        let keys = RecordKeys::from_services(&self.app.state.services);
        let new = NewObservation {
            infant_id: infant,
            observed_at: Utc::now(),
            value,
        };
        app::records::add_observation(&mut self.conn, keys, &authorization, &new)
            .await
            .unwrap()
    }

    async fn infant(&mut self, birth_date: NaiveDate, birth_grams: f64) -> InfantId {
        let actor = actor(self.clinic, self.midwife, Role::Midwife);
        let authorization = authorize(
            &mut self.conn,
            &actor,
            self.patient,
            DataCategory::Infant,
            Action::Write,
            "birth registration",
        )
        .await
        .unwrap();
        let keys = RecordKeys::from_services(&self.app.state.services);
        let infant = NewInfant {
            name: "Fern Willow (synthetic)".to_owned(),
            birth_date,
            birth_weight: Entered::new(birth_grams, MassUnit::Grams),
            sex: Sex::Female,
        };
        app::records::add_infant(&mut self.conn, keys, &authorization, &infant)
            .await
            .unwrap()
    }

    async fn tasks(&mut self) -> Vec<protocols::CareTask> {
        protocols::patient_tasks(
            &mut self.conn,
            self.clinic,
            self.patient,
            &DataCategory::ALL,
        )
        .await
        .unwrap()
    }

    async fn alerts(&mut self) -> Vec<protocols::CareAlert> {
        protocols::patient_alerts(
            &mut self.conn,
            self.clinic,
            self.patient,
            &DataCategory::ALL,
        )
        .await
        .unwrap()
    }

    /// Returns the recipients of each care event about the patient, by kind, oldest first.
    async fn events(&mut self) -> Vec<(String, Vec<UserId>)> {
        #[derive(QueryableByName)]
        struct Event {
            #[diesel(sql_type = Text)]
            kind: String,
            #[diesel(sql_type = Array<SqlUuid>)]
            recipients: Vec<uuid::Uuid>,
        }
        let events: Vec<Event> = diesel::sql_query(
            "SELECT kind, recipients FROM care_events WHERE patient_id = $1 ORDER BY id",
        )
        .bind::<SqlUuid, _>(self.patient.0)
        .load(&mut self.conn)
        .await
        .unwrap();
        events
            .into_iter()
            .map(|event| {
                let mut recipients: Vec<UserId> =
                    event.recipients.into_iter().map(UserId).collect();
                recipients.sort();
                (event.kind, recipients)
            })
            .collect()
    }
}

async fn create_staff(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    email: &str,
    role: Role,
) -> UserId {
    let services = &app.state.services;
    let account = NewAccount {
        clinic_id,
        display_name: "Synthetic Clinician",
        email,
        roles: &[role],
        granted_by: None,
    };
    accounts::create_user(conn, services.keys.as_ref(), &services.blind_index, account)
        .await
        .unwrap()
}

fn client() -> ClientInfo {
    ClientInfo {
        address: Some("192.0.2.60".parse().unwrap()),
        user_agent: Some("protocols-test".to_owned()),
        request_id: Some("req-protocols".to_owned()),
    }
}

fn context(clinic: ClinicId, user: UserId, role: Role) -> AccessContext {
    AccessContext {
        actor: user,
        actor_roles: vec![role],
        clinic_id: clinic,
        purpose: "postnatal visit".to_owned(),
        emergency: false,
        client: client(),
    }
}

fn actor(clinic: ClinicId, user: UserId, role: Role) -> Actor {
    Actor {
        user,
        roles: vec![role],
        clinic,
        client: client(),
    }
}

fn new_patient() -> NewPatient {
    NewPatient {
        user_id: None,
        full_name: "Hazel Willow (synthetic)".to_owned(),
        date_of_birth: NaiveDate::from_ymd_opt(1992, 6, 9).unwrap(),
        address: "3 Example Lane, Testford (synthetic)".to_owned(),
        phone: "+44 7700 900456".to_owned(),
    }
}

/// EPDS answer positions with the given total, item 10 answered "Never".
fn epds(total: u8) -> ObservationValue {
    let mut answers = vec![
        Some(0),
        Some(0),
        Some(3),
        Some(0),
        Some(3),
        Some(3),
        Some(3),
        Some(3),
        Some(3),
        Some(3),
    ];
    let mut remaining = total;
    for item in [0usize, 1, 3] {
        let points = remaining.min(3);
        answers[item] = Some(points);
        remaining -= points;
    }
    for item in [2usize, 4, 5, 6, 7, 8] {
        let points = remaining.min(3);
        answers[item] = Some(3 - points);
        remaining -= points;
    }
    ObservationValue::epds(answers).unwrap()
}

fn blood_pressure(systolic: f64, diastolic: f64) -> ObservationValue {
    ObservationValue::blood_pressure(BloodPressureReading {
        systolic,
        diastolic,
        unit: PressureUnit::MillimetresOfMercury,
    })
    .unwrap()
}

fn sorted(mut users: Vec<UserId>) -> Vec<UserId> {
    users.sort();
    users
}

#[tokio::test]
async fn epds_13_creates_referral_task() {
    let mut ward = Ward::new().await;

    let observation = ward.observe(epds(14), None).await;

    let tasks = ward.tasks().await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].rule, Some(Rule::EpdsReferral));
    assert_eq!(tasks[0].owner_role, Role::MentalHealthSpecialist);
    assert_eq!(tasks[0].owner_user_id, Some(ward.specialist));
    assert_eq!(tasks[0].status, TaskStatus::Open);
    assert_eq!(tasks[0].category, DataCategory::MentalHealth);
    let firings = protocols::firings_of_observation(&mut ward.conn, ward.clinic, observation)
        .await
        .unwrap();
    assert_eq!(firings.len(), 1);
    assert_eq!(firings[0].settings_version, 0);
    assert_eq!(firings[0].threshold, "EPDS total >= 13");
    assert!(ward.alerts().await.is_empty());

    let events = ward.events().await;
    assert_eq!(
        events,
        vec![
            ("task".to_owned(), vec![ward.specialist]),
            (
                "screening".to_owned(),
                sorted(vec![ward.gp, ward.specialist])
            ),
        ]
    );
}

#[tokio::test]
async fn epds_12_fires_no_rule() {
    let mut ward = Ward::new().await;
    ward.observe(epds(12), None).await;
    assert!(ward.tasks().await.is_empty());
    assert!(ward.alerts().await.is_empty());
    assert_eq!(ward.events().await.len(), 1);
}

#[tokio::test]
async fn epds_item_10_alerts_care_team() {
    let mut ward = Ward::new().await;
    // Item 10 at position 2 ("Hardly ever") scores 1; every other item scores 0.
    let answers = vec![
        Some(0),
        Some(0),
        Some(3),
        Some(0),
        Some(3),
        Some(3),
        Some(3),
        Some(3),
        Some(3),
        Some(2),
    ];
    ward.observe(ObservationValue::epds(answers).unwrap(), None)
        .await;

    let alerts = ward.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, Rule::EpdsSelfHarm);
    assert_eq!(alerts[0].priority, app::events::Priority::Urgent);
    let events = ward.events().await;
    let (kind, recipients) = &events[0];
    assert_eq!(kind, "alert");
    assert_eq!(
        recipients,
        &sorted(vec![
            ward.gp,
            ward.midwife,
            ward.specialist,
            ward.consultant
        ])
    );
}

#[tokio::test]
async fn severe_pressure_alerts_midwife_and_gp() {
    let mut ward = Ward::new().await;
    ward.observe(blood_pressure(164.0, 98.0), None).await;

    let alerts = ward.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, Rule::SevereBloodPressure);
    assert_eq!(alerts[0].observed, "164/98 mmHg");
    let events = ward.events().await;
    assert_eq!(
        events[0],
        ("alert".to_owned(), sorted(vec![ward.gp, ward.midwife]))
    );
    assert_eq!(
        events[1],
        ("vitals".to_owned(), sorted(vec![ward.gp, ward.midwife]))
    );
}

#[tokio::test]
async fn raised_pressure_creates_follow_up() {
    let mut ward = Ward::new().await;
    ward.observe(blood_pressure(142.0, 88.0), None).await;
    ward.observe(blood_pressure(138.0, 88.0), None).await;

    let tasks = ward.tasks().await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].rule, Some(Rule::RaisedBloodPressure));
    assert_eq!(tasks[0].owner_user_id, Some(ward.midwife));
}

#[tokio::test]
async fn weight_loss_creates_feeding_task() {
    let mut ward = Ward::new().await;
    let born = Utc::now().date_naive() - Duration::days(4);
    let infant = ward.infant(born, 3500.0).await;

    let kept = ObservationValue::weight(Entered::new(3200.0, MassUnit::Grams)).unwrap();
    ward.observe(kept, Some(infant)).await;
    assert!(ward.tasks().await.is_empty(), "8.6 % below birth weight");

    let lost = ObservationValue::weight(Entered::new(3120.0, MassUnit::Grams)).unwrap();
    ward.observe(lost, Some(infant)).await;
    let tasks = ward.tasks().await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].rule, Some(Rule::BirthWeightLoss));
    assert_eq!(tasks[0].owner_user_id, Some(ward.consultant));
    assert_eq!(tasks[0].category, DataCategory::Infant);
    let growth_events: Vec<_> = ward
        .events()
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "growth")
        .collect();
    assert_eq!(growth_events.len(), 2);
    assert_eq!(
        growth_events[0].1,
        sorted(vec![ward.midwife, ward.consultant])
    );
}

#[tokio::test]
async fn threshold_change_is_versioned() {
    let mut ward = Ward::new().await;
    let settings = ProtocolSettings {
        epds: EpdsThresholds::new(9, 11).unwrap(),
        ..ProtocolSettings::default()
    };
    let version =
        protocols::change_settings(&mut ward.conn, ward.clinic, ward.admin, settings, client())
            .await
            .unwrap();
    assert_eq!(version, 1);

    let observation = ward.observe(epds(11), None).await;

    let firings = protocols::firings_of_observation(&mut ward.conn, ward.clinic, observation)
        .await
        .unwrap();
    assert_eq!(firings.len(), 1);
    assert_eq!(firings[0].settings_version, 1);
    assert_eq!(firings[0].threshold, "EPDS total >= 11");

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let audited: Count = diesel::sql_query(
        "SELECT count(*) AS count FROM security_events \
         WHERE kind = 'protocol_settings_changed' AND actor_user_id = $1",
    )
    .bind::<SqlUuid, _>(ward.admin.0)
    .get_result(&mut ward.conn)
    .await
    .unwrap();
    assert_eq!(audited.count, 1);
}

#[tokio::test]
async fn task_history_and_closed_tasks() {
    let mut ward = Ward::new().await;
    ward.observe(epds(15), None).await;
    let task = ward.tasks().await.remove(0);

    let started = protocols::update_task(
        &mut ward.conn,
        ward.clinic,
        task.id,
        ward.specialist,
        TaskStatus::InProgress,
        None,
        Some("Called her; visit booked".to_owned()),
    )
    .await
    .unwrap();
    assert_eq!(started.status, TaskStatus::InProgress);
    protocols::update_task(
        &mut ward.conn,
        ward.clinic,
        task.id,
        ward.specialist,
        TaskStatus::Done,
        None,
        None,
    )
    .await
    .unwrap();
    let reopened = protocols::update_task(
        &mut ward.conn,
        ward.clinic,
        task.id,
        ward.specialist,
        TaskStatus::Open,
        None,
        None,
    )
    .await;
    assert!(matches!(
        reopened,
        Err(protocols::ProtocolError::TaskClosed("done"))
    ));

    let history = protocols::task_history(&mut ward.conn, ward.clinic, task.id)
        .await
        .unwrap();
    let statuses: Vec<TaskStatus> = history.iter().map(|change| change.status).collect();
    assert_eq!(
        statuses,
        vec![TaskStatus::Open, TaskStatus::InProgress, TaskStatus::Done]
    );
    assert_eq!(history[0].actor_user_id, None);
    assert_eq!(history[1].note.as_deref(), Some("Called her; visit booked"));

    let other_clinic = ClinicId::new_random();
    let missing = protocols::update_task(
        &mut ward.conn,
        other_clinic,
        task.id,
        ward.specialist,
        TaskStatus::Done,
        None,
        None,
    )
    .await;
    assert!(matches!(missing, Err(protocols::ProtocolError::NotFound)));
}
