//! The encrypted record store against real PostgreSQL: round trips per classification, one
//! audit event per access, rollback when the audit fails, moved ciphertexts, key rotation,
//! erasure, blind-index search and the synthetic cohort generator.

mod support;

use std::sync::{Arc, Mutex};

use app::access::{Action, Actor, Authorization, DataCategory};
use app::audit::{AccessAction, AccessOutcome, ClientInfo, HistoryPage, patient_access_history};
use app::clinical::growth::Sex;
use app::clinical::units::{Entered, LengthUnit, MassUnit, PressureUnit, TemperatureUnit};
use app::clinical::vitals::BloodPressureReading;
use app::crypto::{CryptoError, KeyProvider, LocalKeyProvider};
use app::identity::Role;
use app::identity::server::accounts::{self, NewAccount};
use app::identity::server::email::BlindIndexKey;
use app::ids::{ClinicId, InfantId, PatientId, UserId};
use app::records::rotation::{
    pending_patient_keys, pending_user_keys, rotate_patient_keys, rotate_user_keys,
};
use app::records::{
    AccessContext, AppointmentKind, AppointmentStatus, Classification, FeedingMethod,
    NewAppointment, NewCareTeamMember, NewClinicalEntry, NewClinicalNote, NewInfant,
    NewObservation, NewPatient, Observation, ObservationKind, ObservationValue, PatientField,
    PatientQuery, RecordKeys, RecordsError,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use diesel::QueryableByName;
use diesel::connection::InstrumentationEvent;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use server::cohort::{CohortOptions, demo_patient_email, ensure_demo_patient, generate};
use server::secrets::SecretKey;
use support::TestApp;
use support::matrix::Consent;

/// A clinic with one GP, her access context, her actor for the access policy and a database
/// connection.
struct Clinic {
    app: TestApp,
    conn: AsyncPgConnection,
    clinic_id: ClinicId,
    gp: UserId,
    access: AccessContext,
    actor: Actor,
}

impl Clinic {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let mut conn = support::connect(&app.database.url).await;
        let clinic_id = accounts::ensure_clinic(&mut conn, "harbour-clinic", "Harbour Clinic")
            .await
            .unwrap();
        let gp = create_staff(&app, &mut conn, clinic_id, "gp@harbour.example").await;
        let access = access_for(clinic_id, gp);
        let actor = actor_of(&access);
        Self {
            app,
            conn,
            clinic_id,
            gp,
            access,
            actor,
        }
    }

    /// Creates a patient with the clinic's GP on her care team and her care consent granted.
    async fn patient(&mut self, name: &str) -> PatientId {
        let patient_id = self.bare_patient(name).await;
        self.admit(patient_id).await;
        patient_id
    }

    /// Creates a patient with no care team and no consent.
    async fn bare_patient(&mut self, name: &str) -> PatientId {
        let keys = RecordKeys::from_services(&self.app.state.services);
        app::records::create_patient(&mut self.conn, keys, &self.access, &new_patient(name))
            .await
            .unwrap()
    }

    /// Puts the clinic's GP on the patient's care team and grants her care consent.
    async fn admit(&mut self, patient_id: PatientId) {
        join_care_team(&mut self.conn, &self.access, patient_id, self.gp).await;
        support::consents::set_consent(&self.app, &mut self.conn, patient_id, Consent::Granted)
            .await;
    }
}

/// Adds `provider` to the patient's care team as her GP, from the start of 2026 on, before
/// any membership the tests add themselves.
async fn join_care_team(
    conn: &mut AsyncPgConnection,
    access: &AccessContext,
    patient_id: PatientId,
    provider: UserId,
) {
    let member = NewCareTeamMember {
        provider,
        role: Role::PrimaryCareProvider,
        starts_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        ends_at: None,
    };
    app::records::add_care_team_member(conn, access, patient_id, &member)
        .await
        .unwrap();
}

async fn create_staff(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    email: &str,
) -> UserId {
    let services = &app.state.services;
    let account = NewAccount {
        clinic_id,
        display_name: "Synthetic GP",
        email,
        roles: &[Role::PrimaryCareProvider],
        granted_by: None,
    };
    accounts::create_user(conn, services.keys.as_ref(), &services.blind_index, account)
        .await
        .unwrap()
}

fn access_for(clinic_id: ClinicId, actor: UserId) -> AccessContext {
    AccessContext {
        actor,
        actor_roles: vec![Role::PrimaryCareProvider],
        clinic_id,
        purpose: "postnatal visit".to_owned(),
        emergency: false,
        client: ClientInfo {
            address: Some("192.0.2.44".parse().unwrap()),
            user_agent: Some("records-test".to_owned()),
            request_id: Some("req-records".to_owned()),
        },
    }
}

/// The policy's actor for the user of an access context.
fn actor_of(access: &AccessContext) -> Actor {
    Actor {
        user: access.actor,
        roles: access.actor_roles.clone(),
        clinic: access.clinic_id,
        client: access.client.clone(),
    }
}

/// Authorizes `actor` through the access policy, as a server function does, or panics.
async fn allow(
    app: &TestApp,
    actor: &Actor,
    patient_id: PatientId,
    category: DataCategory,
    action: Action,
) -> Authorization {
    try_allow(app, actor, patient_id, category, action)
        .await
        .unwrap_or_else(|error| panic!("{category:?} {action:?} was not authorized: {error:?}"))
}

async fn try_allow(
    app: &TestApp,
    actor: &Actor,
    patient_id: PatientId,
    category: DataCategory,
    action: Action,
) -> Result<Authorization, app::error::AppError> {
    let mut conn = app.pool.get().await.unwrap();
    app::access::guard::authorize(
        &mut conn,
        actor,
        patient_id,
        category,
        action,
        "postnatal visit",
    )
    .await
}

/// Lists a patient's observations of every kind, one category after the other, ordered by time.
async fn all_observations(
    clinic: &mut Clinic,
    patient_id: PatientId,
) -> Result<Vec<app::records::Observation>, RecordsError> {
    let keys = RecordKeys::from_services(&clinic.app.state.services);
    let mut found = Vec::new();
    for category in [
        DataCategory::Maternal,
        DataCategory::Infant,
        DataCategory::MentalHealth,
    ] {
        let authorization = allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            category,
            Action::Read,
        )
        .await;
        found.extend(
            app::records::list_observations(
                &mut clinic.conn,
                keys,
                &authorization,
                ObservationKind::ALL,
            )
            .await?,
        );
    }
    found.sort_by_key(|observation| (observation.observed_at, observation.id));
    Ok(found)
}

fn observation_category_of(new: &NewObservation) -> DataCategory {
    app::records::observation_category(new.value.kind(), new.infant_id.is_some())
}

fn new_patient(name: &str) -> NewPatient {
    NewPatient {
        user_id: None,
        full_name: name.to_owned(),
        date_of_birth: NaiveDate::from_ymd_opt(1994, 3, 17).unwrap(),
        address: "12 Example Street, Testborough (synthetic)".to_owned(),
        phone: "+44 7700 900123".to_owned(),
    }
}

fn new_infant() -> NewInfant {
    NewInfant {
        name: "Pip Nowak (synthetic)".to_owned(),
        birth_date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        birth_weight: Entered::new(3350.0, MassUnit::Grams),
        sex: Sex::Female,
    }
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn observation(infant_id: Option<InfantId>, hour: u32, value: ObservationValue) -> NewObservation {
    NewObservation {
        infant_id,
        observed_at: at(22, hour),
        value,
    }
}

/// Builds one observation of every kind, the infant's ones for `infant_id`.
fn every_observation(infant_id: InfantId) -> Vec<NewObservation> {
    let pressure = BloodPressureReading {
        systolic: 21.3,
        diastolic: 12.0,
        unit: PressureUnit::Kilopascals,
    };
    vec![
        observation(None, 1, ObservationValue::blood_pressure(pressure).unwrap()),
        observation(
            None,
            2,
            ObservationValue::temperature(Entered::new(100.4, TemperatureUnit::Fahrenheit))
                .unwrap(),
        ),
        observation(
            Some(infant_id),
            3,
            ObservationValue::weight(Entered::new(3210.0, MassUnit::Grams)).unwrap(),
        ),
        observation(
            Some(infant_id),
            4,
            ObservationValue::length(Entered::new(50.5, LengthUnit::Centimetres)).unwrap(),
        ),
        observation(
            Some(infant_id),
            5,
            ObservationValue::head_circumference(Entered::new(13.9, LengthUnit::Inches)).unwrap(),
        ),
        observation(
            Some(infant_id),
            6,
            ObservationValue::Feeding {
                method: FeedingMethod::Breast,
                breast_side: None,
                duration_minutes: Some(25),
                volume_ml: None,
            },
        ),
        observation(
            Some(infant_id),
            7,
            ObservationValue::Nappy {
                wet: true,
                dirty: false,
            },
        ),
        observation(None, 8, ObservationValue::epds(vec![Some(1); 10]).unwrap()),
        observation(None, 9, ObservationValue::phq9(vec![Some(2); 9]).unwrap()),
        observation(None, 10, ObservationValue::gad7(vec![Some(0); 7]).unwrap()),
    ]
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

async fn count(conn: &mut AsyncPgConnection, statement: &str) -> i64 {
    diesel::sql_query(statement)
        .get_result::<Count>(conn)
        .await
        .unwrap_or_else(|error| panic!("{statement} failed: {error}"))
        .count
}

async fn audit_count(conn: &mut AsyncPgConnection) -> i64 {
    count(conn, "SELECT count(*) AS count FROM data_access_audit").await
}

async fn history(
    conn: &mut AsyncPgConnection,
    patient_id: PatientId,
) -> Vec<app::audit::AccessEvent> {
    let page = HistoryPage {
        limit: 100,
        before: None,
    };
    patient_access_history(conn, patient_id, page)
        .await
        .unwrap()
}

async fn execute(conn: &mut AsyncPgConnection, statement: &str) {
    diesel::sql_query(statement)
        .execute(conn)
        .await
        .unwrap_or_else(|error| panic!("{statement} failed: {error}"));
}

#[tokio::test]
async fn identity_round_trips_by_field() {
    let mut clinic = Clinic::new().await;
    let patient_id = clinic.patient("Kaśka Nowak").await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);

    let all = app::records::read_patient_identity(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Contact,
            Action::Read,
        )
        .await,
        &PatientField::ALL,
    )
    .await
    .unwrap();
    let name_only = app::records::read_patient_identity(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Contact,
            Action::Read,
        )
        .await,
        &[PatientField::FullName],
    )
    .await
    .unwrap();

    let expected = new_patient("Kaśka Nowak");
    assert_eq!(all.full_name.as_deref(), Some("Kaśka Nowak"));
    assert_eq!(all.date_of_birth, Some(expected.date_of_birth));
    assert_eq!(all.address, Some(expected.address));
    assert_eq!(all.phone, Some(expected.phone));
    assert_eq!(name_only.full_name.as_deref(), Some("Kaśka Nowak"));
    assert_eq!(name_only.date_of_birth, None);
    assert_eq!(name_only.address, None);
    assert_eq!(name_only.phone, None);
    let events = history(&mut clinic.conn, patient_id).await;
    assert_eq!(events[0].data_elements, ["patient.full_name"]);
}

#[tokio::test]
async fn observations_round_trip_every_kind() {
    let mut clinic = Clinic::new().await;
    let patient_id = clinic.patient("Kaśka Nowak").await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let infant_id = app::records::add_infant(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Infant,
            Action::Write,
        )
        .await,
        &new_infant(),
    )
    .await
    .unwrap();
    let observations = every_observation(infant_id);
    for new in &observations {
        app::records::add_observation(
            &mut clinic.conn,
            keys,
            &allow(
                &clinic.app,
                &clinic.actor,
                patient_id,
                observation_category_of(new),
                Action::Write,
            )
            .await,
            new,
        )
        .await
        .unwrap();
    }

    let listed = all_observations(&mut clinic, patient_id).await.unwrap();
    let growth = app::records::list_observations(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Infant,
            Action::Read,
        )
        .await,
        &[ObservationKind::Length, ObservationKind::HeadCircumference],
    )
    .await
    .unwrap();

    assert_eq!(listed.len(), observations.len());
    for (stored, new) in listed.iter().zip(&observations) {
        assert_eq!(stored.value, new.value);
        assert_eq!(stored.infant_id, new.infant_id);
        assert_eq!(stored.observed_at, new.observed_at);
        assert_eq!(stored.author, clinic.gp);
    }
    assert_eq!(growth.len(), 2);
    match &listed[0].value {
        ObservationValue::BloodPressure {
            systolic_mmhg,
            diastolic_mmhg,
            ..
        } => {
            assert_eq!(*systolic_mmhg, 159.8);
            assert_eq!(*diastolic_mmhg, 90.0);
        }
        other => panic!("expected blood pressure, got {other:?}"),
    }
    match &listed[7].value {
        // Items 1, 2 and 4 score position 1 as 1 point, the seven reverse-scored items as 2.
        ObservationValue::Epds { total, .. } => assert_eq!(*total, Some(17)),
        other => panic!("expected EPDS, got {other:?}"),
    }

    let infants = app::records::list_infants(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Infant,
            Action::Read,
        )
        .await,
    )
    .await
    .unwrap();
    assert_eq!(infants.len(), 1);
    assert_eq!(infants[0].id, infant_id);
    assert_eq!(infants[0].name, "Pip Nowak (synthetic)");
    assert_eq!(infants[0].birth_weight_kg, 3.35);
    assert_eq!(infants[0].sex, Sex::Female);
}

#[tokio::test]
async fn observations_by_category_split_and_audited() {
    let mut clinic = Clinic::new().await;
    let patient_id = clinic.patient("Kaśka Nowak").await;
    let other_patient = clinic.patient("Ola Lis").await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let infant_id = app::records::add_infant(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Infant,
            Action::Write,
        )
        .await,
        &new_infant(),
    )
    .await
    .unwrap();
    let mut observations = every_observation(infant_id);
    // The mother's own weight is maternal data, her infant's weight infant data.
    observations.push(observation(
        None,
        11,
        ObservationValue::weight(Entered::new(68.0, MassUnit::Kilograms)).unwrap(),
    ));
    for new in &observations {
        app::records::add_observation(
            &mut clinic.conn,
            keys,
            &allow(
                &clinic.app,
                &clinic.actor,
                patient_id,
                observation_category_of(new),
                Action::Write,
            )
            .await,
            new,
        )
        .await
        .unwrap();
    }
    let read =
        |patient, category| allow(&clinic.app, &clinic.actor, patient, category, Action::Read);
    let maternal = read(patient_id, DataCategory::Maternal).await;
    let mental_health = read(patient_id, DataCategory::MentalHealth).await;
    let infant = read(patient_id, DataCategory::Infant).await;
    let before = audit_count(&mut clinic.conn).await;

    let reads: [(&Authorization, &[ObservationKind]); 3] = [
        (
            &maternal,
            &[ObservationKind::BloodPressure, ObservationKind::Weight],
        ),
        (
            &mental_health,
            &[ObservationKind::Epds, ObservationKind::Gad7],
        ),
        (&infant, &[ObservationKind::Weight, ObservationKind::Nappy]),
    ];
    let lists = app::records::list_observations_by_category(&mut clinic.conn, keys, &reads)
        .await
        .unwrap();

    let kinds = |list: &Vec<Observation>| -> Vec<(ObservationKind, bool)> {
        list.iter()
            .map(|found| (found.value.kind(), found.infant_id.is_some()))
            .collect()
    };
    assert_eq!(lists.len(), 3);
    assert_eq!(
        kinds(&lists[0]),
        [
            (ObservationKind::BloodPressure, false),
            (ObservationKind::Weight, false)
        ]
    );
    assert_eq!(
        kinds(&lists[1]),
        [
            (ObservationKind::Epds, false),
            (ObservationKind::Gad7, false)
        ]
    );
    assert_eq!(
        kinds(&lists[2]),
        [
            (ObservationKind::Weight, true),
            (ObservationKind::Nappy, true)
        ]
    );
    assert_eq!(lists[2][0].value, observations[2].value);
    assert_eq!(
        audit_count(&mut clinic.conn).await - before,
        3,
        "one event per read"
    );
    let events = history(&mut clinic.conn, patient_id).await;
    let mut elements: Vec<Vec<String>> = events[..3]
        .iter()
        .map(|event| event.data_elements.clone())
        .collect();
    elements.sort();
    assert_eq!(
        elements,
        [
            vec!["observation.blood_pressure", "observation.weight"],
            vec!["observation.epds", "observation.gad7"],
            vec!["observation.weight", "observation.nappy"],
        ]
    );

    // Reads of two patients are rejected before anything is read or recorded.
    let other = read(other_patient, DataCategory::MentalHealth).await;
    let mixed: [(&Authorization, &[ObservationKind]); 2] = [
        (&maternal, &[ObservationKind::BloodPressure]),
        (&other, &[ObservationKind::Epds]),
    ];
    let before = audit_count(&mut clinic.conn).await;
    let invalid = app::records::list_observations_by_category(&mut clinic.conn, keys, &mixed).await;
    assert!(
        matches!(invalid, Err(RecordsError::InvalidInput(_))),
        "{invalid:?}"
    );
    assert_eq!(audit_count(&mut clinic.conn).await, before);
}

#[tokio::test]
async fn observation_subject_checked() {
    let mut clinic = Clinic::new().await;
    let patient_id = clinic.patient("Maren Fernhollow").await;
    let other_patient = clinic.patient("Nyssa Dunmarrow").await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let other_infant = app::records::add_infant(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            other_patient,
            DataCategory::Infant,
            Action::Write,
        )
        .await,
        &new_infant(),
    )
    .await
    .unwrap();
    let length = ObservationValue::length(Entered::new(50.0, LengthUnit::Centimetres)).unwrap();

    let without_infant = observation(None, 1, length.clone());
    let foreign_infant = observation(Some(other_infant), 1, length);
    let first = app::records::add_observation(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            observation_category_of(&without_infant),
            Action::Write,
        )
        .await,
        &without_infant,
    )
    .await;
    let second = app::records::add_observation(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            observation_category_of(&foreign_infant),
            Action::Write,
        )
        .await,
        &foreign_infant,
    )
    .await;

    assert!(
        matches!(first, Err(RecordsError::InvalidInput(_))),
        "{first:?}"
    );
    assert!(matches!(second, Err(RecordsError::NotFound)), "{second:?}");
    let implausible = ObservationValue::weight(Entered::new(3.2, MassUnit::Grams));
    assert!(matches!(implausible, Err(RecordsError::InvalidInput(_))));
}

#[tokio::test]
async fn entries_and_notes_round_trip_per_classification() {
    let mut clinic = Clinic::new().await;
    let patient_id = clinic.patient("Kaśka Nowak").await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let infant_id = app::records::add_infant(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Infant,
            Action::Write,
        )
        .await,
        &new_infant(),
    )
    .await
    .unwrap();

    for (index, classification) in Classification::ALL.into_iter().enumerate() {
        let entry = NewClinicalEntry {
            classification,
            infant_id: (classification == Classification::Infant).then_some(infant_id),
            entry_type: format!("synthetic_{}", classification.as_str()),
            recorded_at: at(23, index as u32),
            payload: serde_json::json!({ "class": classification.as_str(), "values": [index, 2.5] }),
        };
        let note = NewClinicalNote {
            classification,
            written_at: at(23, index as u32),
            body: format!(
                "Synthetic {} note: feeding well, mood settled.",
                classification.as_str()
            ),
        };
        app::records::add_clinical_entry(
            &mut clinic.conn,
            keys,
            &allow(
                &clinic.app,
                &clinic.actor,
                patient_id,
                entry.classification.category(),
                Action::Write,
            )
            .await,
            &entry,
        )
        .await
        .unwrap();
        app::records::add_note(
            &mut clinic.conn,
            keys,
            &allow(
                &clinic.app,
                &clinic.actor,
                patient_id,
                note.classification.category(),
                Action::Write,
            )
            .await,
            &note,
        )
        .await
        .unwrap();
    }

    for classification in Classification::ALL {
        let entries = app::records::list_clinical_entries(
            &mut clinic.conn,
            keys,
            &allow(
                &clinic.app,
                &clinic.actor,
                patient_id,
                classification.category(),
                Action::Read,
            )
            .await,
            classification,
        )
        .await
        .unwrap();
        let notes = app::records::list_notes(
            &mut clinic.conn,
            keys,
            &allow(
                &clinic.app,
                &clinic.actor,
                patient_id,
                classification.category(),
                Action::Read,
            )
            .await,
            classification,
        )
        .await
        .unwrap();

        assert_eq!(entries.len(), 1, "{classification:?}");
        assert_eq!(entries[0].classification, classification);
        assert_eq!(entries[0].payload["class"], classification.as_str());
        assert_eq!(
            entries[0].entry_type,
            format!("synthetic_{}", classification.as_str())
        );
        assert_eq!(
            entries[0].infant_id,
            (classification == Classification::Infant).then_some(infant_id)
        );
        assert_eq!(notes.len(), 1, "{classification:?}");
        assert!(
            notes[0]
                .body
                .starts_with(&format!("Synthetic {}", classification.as_str()))
        );
        assert_eq!(notes[0].author, clinic.gp);
    }
}

#[tokio::test]
async fn appointments_and_care_team_round_trip() {
    let mut clinic = Clinic::new().await;
    let patient_id = clinic.patient("Kaśka Nowak").await;
    let appointment = NewAppointment {
        clinician: clinic.gp,
        starts_at: at(25, 10),
        ends_at: at(25, 11),
        kind: AppointmentKind::PostnatalVisit,
        status: AppointmentStatus::Scheduled,
    };
    let member = NewCareTeamMember {
        provider: clinic.gp,
        role: Role::Midwife,
        starts_at: at(20, 8),
        ends_at: None,
    };

    app::records::schedule_appointment(
        &mut clinic.conn,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::CareLogistics,
            Action::Write,
        )
        .await,
        &appointment,
    )
    .await
    .unwrap();
    app::records::add_care_team_member(&mut clinic.conn, &clinic.access, patient_id, &member)
        .await
        .unwrap();
    let appointments = app::records::list_appointments(
        &mut clinic.conn,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::CareLogistics,
            Action::Read,
        )
        .await,
    )
    .await
    .unwrap();
    let team = app::records::list_care_team(
        &mut clinic.conn,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::CareLogistics,
            Action::Read,
        )
        .await,
    )
    .await
    .unwrap();

    assert_eq!(appointments.len(), 1);
    assert_eq!(appointments[0].kind, AppointmentKind::PostnatalVisit);
    assert_eq!(appointments[0].starts_at, appointment.starts_at);
    // The first membership is the fixture's, which lets the GP in.
    assert_eq!(team.len(), 2);
    assert_eq!(team[1].provider, clinic.gp);
    assert_eq!(team[1].role, Role::Midwife);
    let backwards = NewAppointment {
        ends_at: appointment.starts_at,
        ..appointment
    };
    let rejected = app::records::schedule_appointment(
        &mut clinic.conn,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::CareLogistics,
            Action::Write,
        )
        .await,
        &backwards,
    )
    .await;
    assert!(matches!(rejected, Err(RecordsError::InvalidInput(_))));
    let admin_member = NewCareTeamMember {
        role: Role::Admin,
        ..member
    };
    let rejected = app::records::add_care_team_member(
        &mut clinic.conn,
        &clinic.access,
        patient_id,
        &admin_member,
    )
    .await;
    assert!(matches!(rejected, Err(RecordsError::InvalidInput(_))));
}

#[tokio::test]
async fn every_appointment_kind_and_role_stored() {
    let mut clinic = Clinic::new().await;
    let patient_id = clinic.patient("Kaśka Nowak").await;
    let statuses = AppointmentStatus::ALL;
    for (index, kind) in AppointmentKind::ALL.iter().enumerate() {
        let appointment = NewAppointment {
            clinician: clinic.gp,
            starts_at: at(1 + index as u32, 9),
            ends_at: at(1 + index as u32, 10),
            kind: *kind,
            status: statuses[index % statuses.len()],
        };
        app::records::schedule_appointment(
            &mut clinic.conn,
            &allow(
                &clinic.app,
                &clinic.actor,
                patient_id,
                DataCategory::CareLogistics,
                Action::Write,
            )
            .await,
            &appointment,
        )
        .await
        .unwrap();
    }
    let roles = [
        Role::PrimaryCareProvider,
        Role::Midwife,
        Role::LactationConsultant,
        Role::MentalHealthSpecialist,
        Role::CareCoordinator,
    ];
    for role in roles {
        let member = NewCareTeamMember {
            provider: clinic.gp,
            role,
            starts_at: at(1, 8),
            ends_at: Some(at(30, 8)),
        };
        app::records::add_care_team_member(&mut clinic.conn, &clinic.access, patient_id, &member)
            .await
            .unwrap();
    }

    let appointments = app::records::list_appointments(
        &mut clinic.conn,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::CareLogistics,
            Action::Read,
        )
        .await,
    )
    .await
    .unwrap();
    let team = app::records::list_care_team(
        &mut clinic.conn,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::CareLogistics,
            Action::Read,
        )
        .await,
    )
    .await
    .unwrap();

    let kinds: Vec<AppointmentKind> = appointments
        .iter()
        .map(|appointment| appointment.kind)
        .collect();
    assert_eq!(kinds, AppointmentKind::ALL);
    assert_eq!(appointments[1].status, statuses[1]);
    // The first membership is the fixture's, which lets the GP in.
    let mut stored_roles: Vec<Role> = team.iter().skip(1).map(|member| member.role).collect();
    stored_roles.sort();
    assert_eq!(stored_roles, roles);
}

#[tokio::test]
async fn each_access_records_one_event() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let before = audit_count(&mut clinic.conn).await;
    let patient_id = clinic.bare_patient("Kaśka Nowak").await;
    let after_create = audit_count(&mut clinic.conn).await;
    clinic.admit(patient_id).await;
    let before_access = audit_count(&mut clinic.conn).await;
    let infant_id = app::records::add_infant(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Infant,
            Action::Write,
        )
        .await,
        &new_infant(),
    )
    .await
    .unwrap();
    let weight = observation(
        Some(infant_id),
        3,
        ObservationValue::weight(Entered::new(3.1, MassUnit::Kilograms)).unwrap(),
    );
    app::records::add_observation(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            observation_category_of(&weight),
            Action::Write,
        )
        .await,
        &weight,
    )
    .await
    .unwrap();
    app::records::list_observations(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Infant,
            Action::Read,
        )
        .await,
        &[ObservationKind::Weight, ObservationKind::Epds],
    )
    .await
    .unwrap();

    assert_eq!(after_create - before, 1);
    assert_eq!(audit_count(&mut clinic.conn).await - before_access, 3);
    let events = history(&mut clinic.conn, patient_id).await;
    let read = &events[0];
    assert_eq!(read.action, AccessAction::Read);
    assert_eq!(
        read.data_elements,
        ["observation.weight", "observation.epds"]
    );
    assert_eq!(read.actor_user_id, Some(clinic.gp));
    assert_eq!(read.actor_roles, ["primary_care_provider"]);
    assert_eq!(read.purpose, "postnatal visit");
    assert_eq!(read.outcome, AccessOutcome::Allowed);
    assert!(!read.emergency);
    assert_eq!(read.client, clinic.access.client);
    assert_eq!(events[1].action, AccessAction::Write);
    assert_eq!(events[1].data_elements, ["observation.weight"]);
    assert_eq!(
        events.last().unwrap().data_elements.len(),
        4,
        "the creation"
    );
}

#[tokio::test]
async fn failed_audit_rolls_back_access() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let patient_id = clinic.patient("Kaśka Nowak").await;
    execute(
        &mut clinic.conn,
        "CREATE FUNCTION reject_audit() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'audit storage unavailable'; END; $$",
    )
    .await;
    execute(
        &mut clinic.conn,
        "CREATE TRIGGER reject_audit BEFORE INSERT ON data_access_audit \
         FOR EACH ROW EXECUTE FUNCTION reject_audit()",
    )
    .await;
    let patients_before = count(&mut clinic.conn, "SELECT count(*) AS count FROM patients").await;

    let note = NewClinicalNote {
        classification: Classification::MentalHealth,
        written_at: at(22, 9),
        body: "Synthetic therapy note.".to_owned(),
    };
    let written = app::records::add_note(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            note.classification.category(),
            Action::Write,
        )
        .await,
        &note,
    )
    .await;
    let created = app::records::create_patient(
        &mut clinic.conn,
        keys,
        &clinic.access,
        &new_patient("Maren Fernhollow"),
    )
    .await;
    let read = app::records::read_patient_identity(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Contact,
            Action::Read,
        )
        .await,
        &[PatientField::Phone],
    )
    .await;

    assert!(
        matches!(written, Err(RecordsError::Audit(_))),
        "{written:?}"
    );
    assert!(
        matches!(created, Err(RecordsError::Audit(_))),
        "{created:?}"
    );
    assert!(matches!(read, Err(RecordsError::Audit(_))), "{read:?}");
    assert_eq!(
        count(
            &mut clinic.conn,
            "SELECT count(*) AS count FROM clinical_notes"
        )
        .await,
        0
    );
    assert_eq!(
        count(&mut clinic.conn, "SELECT count(*) AS count FROM patients").await,
        patients_before
    );

    execute(
        &mut clinic.conn,
        "DROP TRIGGER reject_audit ON data_access_audit",
    )
    .await;
    let notes = app::records::list_notes(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::MentalHealth,
            Action::Read,
        )
        .await,
        Classification::MentalHealth,
    )
    .await
    .unwrap();
    assert!(notes.is_empty());
}

#[tokio::test]
async fn empty_purpose_rejected_before_access() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let access = AccessContext {
        purpose: "   ".to_owned(),
        ..clinic.access.clone()
    };

    let result =
        app::records::create_patient(&mut clinic.conn, keys, &access, &new_patient("Ada Lark"))
            .await;

    assert!(
        matches!(result, Err(RecordsError::InvalidInput(_))),
        "{result:?}"
    );
    assert_eq!(
        count(&mut clinic.conn, "SELECT count(*) AS count FROM patients").await,
        0
    );
}

fn assert_authentication_failure<T: std::fmt::Debug>(result: Result<T, RecordsError>, table: &str) {
    match result {
        Err(RecordsError::Decryption {
            table: failed_table,
            source,
            ..
        }) => {
            assert_eq!(failed_table, table);
            assert_eq!(source, CryptoError::Authentication);
        }
        other => panic!("expected a decryption failure in {table}, got {other:?}"),
    }
}

#[tokio::test]
async fn moved_ciphertext_fails_to_decrypt() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let first = clinic.patient("Kaśka Nowak").await;
    let second = clinic.patient("Maren Fernhollow").await;
    for (patient_id, hour) in [(first, 1), (first, 2), (second, 3)] {
        let value = ObservationValue::epds(vec![Some(0); 10]).unwrap();
        let new = observation(None, hour, value);
        app::records::add_observation(
            &mut clinic.conn,
            keys,
            &allow(
                &clinic.app,
                &clinic.actor,
                patient_id,
                observation_category_of(&new),
                Action::Write,
            )
            .await,
            &new,
        )
        .await
        .unwrap();
    }

    // Within one patient: the second observation gets the first one's ciphertext.
    execute(
        &mut clinic.conn,
        &format!(
            "UPDATE observations SET value_ciphertext = (SELECT value_ciphertext FROM observations \
             WHERE patient_id = '{first}' ORDER BY observed_at LIMIT 1) \
             WHERE patient_id = '{first}' AND observed_at = '2026-11-22 02:00:00+00'"
        ),
    )
    .await;
    // Across patients: the second patient's name is replaced by the first one's, and her
    // observation by one of the first patient's.
    execute(
        &mut clinic.conn,
        &format!(
            "UPDATE patients SET full_name_ciphertext = \
             (SELECT full_name_ciphertext FROM patients WHERE id = '{first}') WHERE id = '{second}'"
        ),
    )
    .await;
    execute(
        &mut clinic.conn,
        &format!(
            "UPDATE observations SET value_ciphertext = (SELECT value_ciphertext FROM observations \
             WHERE patient_id = '{first}' ORDER BY observed_at LIMIT 1) WHERE patient_id = '{second}'"
        ),
    )
    .await;

    let within = app::records::list_observations(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            first,
            DataCategory::MentalHealth,
            Action::Read,
        )
        .await,
        &[ObservationKind::Epds],
    )
    .await;
    let name = app::records::read_patient_identity(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            second,
            DataCategory::Contact,
            Action::Read,
        )
        .await,
        &[PatientField::FullName],
    )
    .await;
    let across = app::records::list_observations(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            second,
            DataCategory::MentalHealth,
            Action::Read,
        )
        .await,
        &[ObservationKind::Epds],
    )
    .await;
    let untouched_field = app::records::read_patient_identity(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            second,
            DataCategory::Contact,
            Action::Read,
        )
        .await,
        &[PatientField::Phone],
    )
    .await;

    assert_authentication_failure(within, "observations");
    assert_authentication_failure(name, "patients");
    assert_authentication_failure(across, "observations");
    assert!(untouched_field.unwrap().phone.is_some());
}

#[tokio::test]
async fn debug_output_hides_identity() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let patient_id = clinic.patient("Kaśka Nowak").await;

    let identity = app::records::read_patient_identity(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Contact,
            Action::Read,
        )
        .await,
        &PatientField::ALL,
    )
    .await
    .unwrap();
    let shown = format!(
        "{identity:?} {:?} {:?}",
        new_patient("Kaśka Nowak"),
        new_infant()
    );

    assert!(!shown.contains("Kaśka"), "{shown}");
    assert!(!shown.contains("1994"), "{shown}");
    assert!(!shown.contains("Example Street"), "{shown}");
    assert!(!shown.contains("7700"), "{shown}");
    assert!(!shown.contains("Pip"), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
}

#[tokio::test]
async fn other_clinic_cannot_reach_patient() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let patient_id = clinic.patient("Kaśka Nowak").await;
    let other_clinic = accounts::ensure_clinic(&mut clinic.conn, "hill-clinic", "Hill Clinic")
        .await
        .unwrap();
    let outsider = create_staff(
        &clinic.app,
        &mut clinic.conn,
        other_clinic,
        "gp@hill.example",
    )
    .await;
    let access = access_for(other_clinic, outsider);

    let read = try_allow(
        &clinic.app,
        &actor_of(&access),
        patient_id,
        DataCategory::Contact,
        Action::Read,
    )
    .await;
    let found = app::records::search_patients(
        &mut clinic.conn,
        keys,
        &access,
        &PatientQuery::Name("kaska nowak".to_owned()),
    )
    .await
    .unwrap();

    assert_eq!(read.unwrap_err(), app::error::AppError::not_found());
    assert!(found.is_empty());
}

#[tokio::test]
async fn search_matches_accented_and_non_latin_names() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let kaska = clinic.patient("Kaśka Nowak").await;
    let anna = clinic.patient("Анна Йорданова").await;
    let wang = clinic.patient("王芳").await;
    let zoe = clinic.patient("Zoë Ashgrove-Tamsen").await;
    let other_nowak = clinic.patient("Maren Nowak").await;
    let mut expected_nowaks = vec![kaska, other_nowak];
    expected_nowaks.sort();

    let cases: Vec<(&str, Vec<PatientId>)> = vec![
        ("kaska", vec![kaska]),
        ("KAŚKA", vec![kaska]),
        ("nowak", expected_nowaks),
        ("Nowak Kaska", vec![kaska]),
        ("анна", vec![anna]),
        ("АННА йорданова", vec![anna]),
        ("王芳", vec![wang]),
        ("tamsen", vec![zoe]),
        ("zoe ashgrove", vec![zoe]),
        ("kaska tamsen", vec![]),
        ("nobody", vec![]),
    ];
    for (query, expected) in cases {
        let found = app::records::search_patients(
            &mut clinic.conn,
            keys,
            &clinic.access,
            &PatientQuery::Name(query.to_owned()),
        )
        .await
        .unwrap();
        assert_eq!(found, expected, "{query}");
    }

    let by_birth = app::records::search_patients(
        &mut clinic.conn,
        keys,
        &clinic.access,
        &PatientQuery::DateOfBirth(NaiveDate::from_ymd_opt(1994, 3, 17).unwrap()),
    )
    .await
    .unwrap();
    let other_birth = app::records::search_patients(
        &mut clinic.conn,
        keys,
        &clinic.access,
        &PatientQuery::DateOfBirth(NaiveDate::from_ymd_opt(1994, 3, 18).unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(by_birth.len(), 5);
    assert!(other_birth.is_empty());

    let events = history(&mut clinic.conn, anna).await;
    assert_eq!(events[0].data_elements, ["patient.search_by_date_of_birth"]);
    assert_eq!(events[1].data_elements, ["patient.search_by_name"]);
    assert_eq!(events[1].action, AccessAction::Read);
    let empty = app::records::search_patients(
        &mut clinic.conn,
        keys,
        &clinic.access,
        &PatientQuery::Name(" - ".to_owned()),
    )
    .await;
    assert!(matches!(empty, Err(RecordsError::InvalidInput(_))));
}

#[derive(QueryableByName)]
struct SearchEvent {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    patient_id: Option<uuid::Uuid>,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
    data_elements: Vec<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    actor_user_id: Option<uuid::Uuid>,
}

#[tokio::test]
async fn search_without_match_is_audited() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    clinic.patient("Kaśka Nowak").await;
    let before = audit_count(&mut clinic.conn).await;

    for query in [
        PatientQuery::Name("Brannigan".to_owned()),
        PatientQuery::DateOfBirth(NaiveDate::from_ymd_opt(1981, 1, 2).unwrap()),
    ] {
        let found = app::records::search_patients(&mut clinic.conn, keys, &clinic.access, &query)
            .await
            .unwrap();
        assert!(found.is_empty(), "{query:?}");
    }

    assert_eq!(audit_count(&mut clinic.conn).await, before + 2);
    let events: Vec<SearchEvent> = diesel::sql_query(
        "SELECT patient_id, data_elements, actor_user_id FROM data_access_audit \
         WHERE action = 'search' ORDER BY occurred_at, id",
    )
    .load(&mut clinic.conn)
    .await
    .unwrap();
    let elements: Vec<_> = events
        .iter()
        .map(|event| event.data_elements.clone())
        .collect();
    assert_eq!(
        elements,
        [
            vec!["patient.search_by_name".to_owned()],
            vec!["patient.search_by_date_of_birth".to_owned()]
        ]
    );
    assert!(events.iter().all(|event| event.patient_id.is_none()));
    assert!(
        events
            .iter()
            .all(|event| event.actor_user_id == Some(clinic.gp.0))
    );
    let report = app::audit::verify_chains(&mut clinic.conn, &support::audit_keyring())
        .await
        .unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break());
}

#[tokio::test]
async fn erased_patient_unreadable_and_audited() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let patient_id = clinic.patient("Kaśka Nowak").await;
    let kept = clinic.patient("Maren Nowak").await;
    let infant_id = app::records::add_infant(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            DataCategory::Infant,
            Action::Write,
        )
        .await,
        &new_infant(),
    )
    .await
    .unwrap();
    let feed = observation(
        Some(infant_id),
        4,
        ObservationValue::Nappy {
            wet: true,
            dirty: true,
        },
    );
    app::records::add_observation(
        &mut clinic.conn,
        keys,
        &allow(
            &clinic.app,
            &clinic.actor,
            patient_id,
            observation_category_of(&feed),
            Action::Write,
        )
        .await,
        &feed,
    )
    .await
    .unwrap();

    // Authorized before the erasure, so that the record store itself is what refuses.
    let contact = allow(
        &clinic.app,
        &clinic.actor,
        patient_id,
        DataCategory::Contact,
        Action::Read,
    )
    .await;
    let infant_read = allow(
        &clinic.app,
        &clinic.actor,
        patient_id,
        DataCategory::Infant,
        Action::Read,
    )
    .await;
    let infant_write = allow(
        &clinic.app,
        &clinic.actor,
        patient_id,
        DataCategory::Infant,
        Action::Write,
    )
    .await;
    let logistics = allow(
        &clinic.app,
        &clinic.actor,
        patient_id,
        DataCategory::CareLogistics,
        Action::Read,
    )
    .await;

    app::records::erase_patient(&mut clinic.conn, &clinic.access, patient_id)
        .await
        .unwrap();

    let identity =
        app::records::read_patient_identity(&mut clinic.conn, keys, &contact, &PatientField::ALL)
            .await;
    let observations =
        app::records::list_observations(&mut clinic.conn, keys, &infant_read, ObservationKind::ALL)
            .await;
    let infants = app::records::list_infants(&mut clinic.conn, keys, &infant_read).await;
    let write = app::records::add_observation(&mut clinic.conn, keys, &infant_write, &feed).await;
    let appointments = app::records::list_appointments(&mut clinic.conn, &logistics).await;
    let again = app::records::erase_patient(&mut clinic.conn, &clinic.access, patient_id).await;
    let found = app::records::search_patients(
        &mut clinic.conn,
        keys,
        &clinic.access,
        &PatientQuery::Name("nowak".to_owned()),
    )
    .await
    .unwrap();

    assert!(
        matches!(identity, Err(RecordsError::Erased)),
        "{identity:?}"
    );
    assert!(
        matches!(observations, Err(RecordsError::Erased)),
        "{observations:?}"
    );
    assert!(matches!(infants, Err(RecordsError::Erased)), "{infants:?}");
    assert!(matches!(write, Err(RecordsError::Erased)), "{write:?}");
    assert!(
        matches!(appointments, Err(RecordsError::Erased)),
        "{appointments:?}"
    );
    assert!(matches!(again, Err(RecordsError::Erased)), "{again:?}");
    assert_eq!(found, vec![kept]);
    let wrapped_keys = count(
        &mut clinic.conn,
        &format!(
            "SELECT count(*) AS count FROM patients WHERE id = '{patient_id}' \
             AND data_key_wrapped IS NULL AND erased_at IS NOT NULL AND date_of_birth_index IS NULL"
        ),
    )
    .await;
    assert_eq!(wrapped_keys, 1);
    let events = history(&mut clinic.conn, patient_id).await;
    assert_eq!(events[0].action, AccessAction::Delete);
    assert_eq!(events[0].data_elements, ["patient.data_key"]);
    assert_eq!(events[0].actor_user_id, Some(clinic.gp));

    let after = try_allow(
        &clinic.app,
        &clinic.actor,
        patient_id,
        DataCategory::Contact,
        Action::Read,
    )
    .await;
    assert_eq!(after.unwrap_err(), app::error::AppError::not_found());
    let events = history(&mut clinic.conn, patient_id).await;
    assert_eq!(
        events[0].outcome,
        AccessOutcome::Denied,
        "the refused request is audited"
    );
}

/// Runs `nurture` with `arguments` against `database` with the given KEK settings.
async fn run_command(
    database: &server::database::DatabaseUrl,
    arguments: &[&str],
    kek: &[(&str, String)],
    blind_index_key: &SecretKey,
) -> (Option<i32>, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_nurture"));
    command
        .args(arguments)
        .env_clear()
        .env("DATABASE_URL", support::runtime_url(database).expose())
        .env("NURTURE_MIGRATION_DATABASE_URL", database.expose())
        .env("NURTURE_PSEUDONYM_KEY", SecretKey::generate().to_base64())
        .env("NURTURE_BLIND_INDEX_KEY", blind_index_key.to_base64())
        .env("NURTURE_AUDIT_KEY", support::audit_key_base64())
        .env("RUST_LOG", "warn");
    for (name, value) in kek {
        command.env(name, value);
    }
    let output = command
        .output()
        .await
        .expect("cannot run the nurture binary");
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[tokio::test]
async fn rotation_resumes_after_interruption() {
    let mut clinic = Clinic::new().await;
    let old_kek = SecretKey::generate();
    let new_kek = SecretKey::generate();
    let blind_index_key = SecretKey::generate();
    let blind_index = BlindIndexKey::new(*blind_index_key.expose());
    let old = LocalKeyProvider::new(1, old_kek.expose());
    let rotating = LocalKeyProvider::new(2, new_kek.expose())
        .with_previous(1, old_kek.expose())
        .unwrap();
    let new_only = LocalKeyProvider::new(2, new_kek.expose());
    let old_keys = RecordKeys {
        provider: &old,
        blind_index: &blind_index,
    };

    // The clinic's midwife was created under the test server's own KEK, so she is replaced by
    // staff wrapped under the old KEK.
    execute(&mut clinic.conn, "DELETE FROM role_assignments").await;
    execute(&mut clinic.conn, "DELETE FROM users").await;
    let mut staff = Vec::new();
    for number in 0..3 {
        let account = NewAccount {
            clinic_id: clinic.clinic_id,
            display_name: "Synthetic GP",
            email: &format!("gp{number}@harbour.example"),
            roles: &[Role::PrimaryCareProvider],
            granted_by: None,
        };
        staff.push(
            accounts::create_user(&mut clinic.conn, &old, &blind_index, account)
                .await
                .unwrap(),
        );
    }
    let access = access_for(clinic.clinic_id, staff[0]);
    let mut patients = Vec::new();
    for number in 0..5 {
        let name = format!("Alvessa Brambleworth{number}");
        let patient_id =
            app::records::create_patient(&mut clinic.conn, old_keys, &access, &new_patient(&name))
                .await
                .unwrap();
        join_care_team(&mut clinic.conn, &access, patient_id, staff[0]).await;
        support::consents::set_consent_with_keys(
            &mut clinic.conn,
            &old,
            patient_id,
            Consent::Granted,
        )
        .await;
        let value = ObservationValue::epds(vec![Some(1); 10]).unwrap();
        app::records::add_observation(
            &mut clinic.conn,
            old_keys,
            &allow(
                &clinic.app,
                &actor_of(&access),
                patient_id,
                DataCategory::MentalHealth,
                Action::Write,
            )
            .await,
            &observation(None, 1, value),
        )
        .await
        .unwrap();
        patients.push((patient_id, name));
    }

    // One batch of each kind commits, then the process "crashes".
    let first_patients = rotate_patient_keys(&mut clinic.conn, &rotating, 2)
        .await
        .unwrap();
    let first_users = rotate_user_keys(&mut clinic.conn, &rotating, 2)
        .await
        .unwrap();
    assert_eq!(first_patients, 2);
    assert_eq!(first_users, 2);
    assert_eq!(pending_patient_keys(&mut clinic.conn, 2).await.unwrap(), 3);
    assert_eq!(pending_user_keys(&mut clinic.conn, 2).await.unwrap(), 1);

    let kek = [
        ("NURTURE_KEK", new_kek.to_base64()),
        ("NURTURE_KEK_VERSION", "2".to_owned()),
        ("NURTURE_KEK_PREVIOUS", format!("1:{}", old_kek.to_base64())),
    ];
    let (status, output) = run_command(
        &clinic.app.database.url,
        &["rotate-keys", "--batch-size", "2"],
        &kek,
        &blind_index_key,
    )
    .await;

    assert_eq!(status, Some(0), "{output}");
    assert!(output.contains("patients: rewrapped 3 of 3"), "{output}");
    assert!(output.contains("users: rewrapped 1 of 1"), "{output}");
    assert_eq!(pending_patient_keys(&mut clinic.conn, 2).await.unwrap(), 0);
    assert_eq!(pending_user_keys(&mut clinic.conn, 2).await.unwrap(), 0);
    let on_old_version = count(
        &mut clinic.conn,
        "SELECT (SELECT count(*) FROM patients WHERE data_key_kek_version <> 2) \
         + (SELECT count(*) FROM users WHERE data_key_kek_version <> 2) AS count",
    )
    .await;
    assert_eq!(on_old_version, 0);
    let rotation_events = |kind: &str| {
        format!(
            "SELECT count(*) AS count FROM security_events WHERE kind = '{kind}' \
             AND clinic_id = '{}' AND actor_user_id IS NULL",
            clinic.clinic_id
        )
    };
    // Two batches before the interruption, then one of users and two of patients.
    for (kind, expected) in [
        ("key_rotation_started", 1),
        ("data_keys_rewrapped", 5),
        ("key_rotation_finished", 1),
    ] {
        let recorded = count(&mut clinic.conn, &rotation_events(kind)).await;
        assert_eq!(recorded, expected, "{kind}");
    }
    let report = app::audit::verify_chains(&mut clinic.conn, &support::audit_keyring())
        .await
        .unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break());

    let new_keys = RecordKeys {
        provider: &new_only,
        blind_index: &blind_index,
    };
    for (patient_id, name) in &patients {
        let identity = app::records::read_patient_identity(
            &mut clinic.conn,
            new_keys,
            &allow(
                &clinic.app,
                &actor_of(&access),
                *patient_id,
                DataCategory::Contact,
                Action::Read,
            )
            .await,
            &[PatientField::FullName],
        )
        .await
        .unwrap();
        let screens = app::records::list_observations(
            &mut clinic.conn,
            new_keys,
            &allow(
                &clinic.app,
                &actor_of(&access),
                *patient_id,
                DataCategory::MentalHealth,
                Action::Read,
            )
            .await,
            &[ObservationKind::Epds],
        )
        .await
        .unwrap();
        assert_eq!(identity.full_name.as_ref(), Some(name));
        assert_eq!(screens.len(), 1);
    }
    for user_id in &staff {
        let profile = accounts::load_profile(&mut clinic.conn, &new_only, *user_id)
            .await
            .unwrap();
        assert_eq!(profile.display_name, "Synthetic GP");
    }
    let old_read = app::records::read_patient_identity(
        &mut clinic.conn,
        old_keys,
        &allow(
            &clinic.app,
            &actor_of(&access),
            patients[0].0,
            DataCategory::Contact,
            Action::Read,
        )
        .await,
        &[PatientField::FullName],
    )
    .await;
    assert!(
        matches!(
            old_read,
            Err(RecordsError::Crypto(CryptoError::UnknownKekVersion {
                version: 2
            }))
        ),
        "{old_read:?}"
    );
    let (status, output) = run_command(
        &clinic.app.database.url,
        &["rotate-keys"],
        &kek,
        &blind_index_key,
    )
    .await;
    assert_eq!(status, Some(0), "{output}");
    assert!(output.contains("patients: 0 keys to rewrap"), "{output}");
    assert_eq!(new_only.current_kek_version(), 2);
}

#[tokio::test]
async fn rotation_without_old_key_stops() {
    let mut clinic = Clinic::new().await;
    let old_kek = SecretKey::generate();
    let blind_index_key = SecretKey::generate();
    let blind_index = BlindIndexKey::new(*blind_index_key.expose());
    let old = LocalKeyProvider::new(1, old_kek.expose());
    let old_keys = RecordKeys {
        provider: &old,
        blind_index: &blind_index,
    };
    execute(&mut clinic.conn, "DELETE FROM role_assignments").await;
    execute(&mut clinic.conn, "DELETE FROM users").await;
    let account = NewAccount {
        clinic_id: clinic.clinic_id,
        display_name: "Synthetic GP",
        email: "gp@harbour.example",
        roles: &[Role::PrimaryCareProvider],
        granted_by: None,
    };
    let gp = accounts::create_user(&mut clinic.conn, &old, &blind_index, account)
        .await
        .unwrap();
    let access = access_for(clinic.clinic_id, gp);
    app::records::create_patient(
        &mut clinic.conn,
        old_keys,
        &access,
        &new_patient("Ada Lark"),
    )
    .await
    .unwrap();

    let kek = [
        ("NURTURE_KEK", SecretKey::generate().to_base64()),
        ("NURTURE_KEK_VERSION", "2".to_owned()),
    ];
    let (status, output) = run_command(
        &clinic.app.database.url,
        &["rotate-keys"],
        &kek,
        &blind_index_key,
    )
    .await;

    assert_eq!(status, Some(1), "{output}");
    assert!(output.contains("key-encryption key version 1"), "{output}");
    assert!(output.contains("NURTURE_KEK_PREVIOUS"), "{output}");
    assert_eq!(pending_user_keys(&mut clinic.conn, 2).await.unwrap(), 1);
    assert_eq!(pending_patient_keys(&mut clinic.conn, 2).await.unwrap(), 1);
}

/// Decrypted content of a generated clinic, without ids, in generation order. A GP of that
/// clinic joins each patient's care team with her consent granted, and reads through the policy.
async fn cohort_content(
    clinic: &mut Clinic,
    keys: RecordKeys<'_>,
    clinic_id: ClinicId,
    patients: &[PatientId],
) -> Vec<String> {
    let email = format!("reader-{clinic_id}@harbour.example");
    let reader = create_staff(&clinic.app, &mut clinic.conn, clinic_id, &email).await;
    let access = access_for(clinic_id, reader);
    let actor = actor_of(&access);
    let mut content = Vec::new();
    for patient_id in patients {
        join_care_team(&mut clinic.conn, &access, *patient_id, reader).await;
        support::consents::set_consent(
            &clinic.app,
            &mut clinic.conn,
            *patient_id,
            Consent::Granted,
        )
        .await;
        let allowed = |category, action| allow(&clinic.app, &actor, *patient_id, category, action);
        let identity = app::records::read_patient_identity(
            &mut clinic.conn,
            keys,
            &allowed(DataCategory::Contact, Action::Read).await,
            &PatientField::ALL,
        )
        .await
        .unwrap();
        let infants = app::records::list_infants(
            &mut clinic.conn,
            keys,
            &allowed(DataCategory::Infant, Action::Read).await,
        )
        .await
        .unwrap();
        let mut observations = Vec::new();
        for category in [
            DataCategory::Maternal,
            DataCategory::Infant,
            DataCategory::MentalHealth,
        ] {
            observations.extend(
                app::records::list_observations(
                    &mut clinic.conn,
                    keys,
                    &allowed(category, Action::Read).await,
                    ObservationKind::ALL,
                )
                .await
                .unwrap(),
            );
        }
        let entries = app::records::list_clinical_entries(
            &mut clinic.conn,
            keys,
            &allowed(DataCategory::Maternal, Action::Read).await,
            Classification::Maternal,
        )
        .await
        .unwrap();
        content.push(format!(
            "{:?} {:?} {:?} {:?}",
            identity.full_name, identity.date_of_birth, identity.address, identity.phone
        ));
        for infant in infants {
            content.push(format!(
                "{} {} {:?} {:?}",
                infant.name, infant.birth_date, infant.birth_weight, infant.sex
            ));
        }
        // Observations taken at the same time are listed in the order of their random ids.
        let mut lines: Vec<String> = observations
            .iter()
            .map(|observation| format!("{} {:?}", observation.observed_at, observation.value))
            .collect();
        lines.sort();
        content.extend(lines);
        for entry in entries {
            content.push(format!("{} {}", entry.entry_type, entry.payload));
        }
    }
    content
}

#[tokio::test]
async fn generator_is_deterministic_for_seed() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let options = |slug: &str, seed| CohortOptions {
        clinic_slug: slug.to_owned(),
        patients: 12,
        seed,
    };
    let mut batches = Vec::new();

    let first = generate(&services, &options("cohort-a", 42), |progress| {
        batches.push(progress)
    })
    .await
    .unwrap();
    let second = generate(&services, &options("cohort-b", 42), |_| {})
        .await
        .unwrap();
    let third = generate(&services, &options("cohort-c", 43), |_| {})
        .await
        .unwrap();

    let keys = RecordKeys::from_services(&services);
    let first_content = cohort_content(&mut clinic, keys, first.clinic_id, &first.patients).await;
    let second_content =
        cohort_content(&mut clinic, keys, second.clinic_id, &second.patients).await;
    let third_content = cohort_content(&mut clinic, keys, third.clinic_id, &third.patients).await;

    assert_eq!(first.patients.len(), 12);
    assert_eq!(
        (first.threads, first.messages),
        (second.threads, second.messages)
    );
    assert!(first_content.len() > 12 * 30, "{}", first_content.len());
    let first_difference = first_content
        .iter()
        .zip(&second_content)
        .position(|(first, second)| first != second);
    assert_eq!(first_difference, None);
    assert_eq!(first_content.len(), second_content.len());
    assert!(
        first_content != third_content,
        "seeds 42 and 43 gave the same cohort"
    );
    assert!(
        first_content[0].contains("(synthetic)"),
        "{}",
        first_content[0]
    );
    assert_eq!(batches.last().map(|progress| progress.done), Some(12));
    assert_ne!(first.patients, second.patients);
}

#[tokio::test]
async fn generator_creates_requested_counts() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let options = CohortOptions {
        clinic_slug: "cohort-counts".to_owned(),
        patients: 450,
        seed: 7,
    };

    let summary = generate(&services, &options, |_| {}).await.unwrap();
    let again = generate(
        &services,
        &CohortOptions {
            patients: 5,
            ..options
        },
        |_| {},
    )
    .await
    .unwrap();

    let clinic_id = summary.clinic_id;
    let in_clinic = |table: &str| {
        format!("SELECT count(*) AS count FROM {table} WHERE clinic_id = '{clinic_id}'")
    };
    assert_eq!(summary.patients.len(), 450);
    assert_eq!(count(&mut clinic.conn, &in_clinic("patients")).await, 455);
    assert_eq!(
        count(&mut clinic.conn, &in_clinic("infants")).await,
        (summary.infants + again.infants) as i64
    );
    assert_eq!(
        count(&mut clinic.conn, &in_clinic("observations")).await,
        (summary.observations + again.observations) as i64
    );
    assert_eq!(
        count(&mut clinic.conn, &in_clinic("appointments")).await,
        (summary.appointments + again.appointments) as i64
    );
    let portal = summary.portal_accounts + again.portal_accounts;
    assert_eq!(
        count(&mut clinic.conn, &in_clinic("users")).await,
        6 + portal as i64,
        "one staff member of each care role, a compliance officer and the portal accounts"
    );
    assert!((140..=230).contains(&summary.portal_accounts), "{portal}");
    assert_eq!(
        count(&mut clinic.conn, &in_clinic("message_threads")).await,
        (summary.threads + again.threads) as i64
    );
    assert_eq!(
        count(&mut clinic.conn, &in_clinic("messages")).await,
        (summary.messages + again.messages) as i64
    );
    assert!(
        summary.threads >= summary.portal_accounts,
        "{}",
        summary.threads
    );
    let without_account = count(
        &mut clinic.conn,
        &format!(
            "SELECT count(*) AS count FROM message_threads AS thread JOIN patients AS patient \
             ON patient.clinic_id = thread.clinic_id AND patient.id = thread.patient_id \
             WHERE thread.clinic_id = '{clinic_id}' AND patient.user_id IS NULL"
        ),
    )
    .await;
    assert_eq!(without_account, 0);
    assert_eq!(again.staff, summary.staff);
    assert_eq!(
        count(&mut clinic.conn, &in_clinic("data_access_audit")).await,
        455
    );
    let screens = count(
        &mut clinic.conn,
        &format!(
            "SELECT count(*) AS count FROM observations WHERE clinic_id = '{clinic_id}' AND kind = 'epds'"
        ),
    )
    .await;
    assert_eq!(screens, 2 * 455);
    let providers = count(
        &mut clinic.conn,
        &format!(
            "SELECT count(DISTINCT provider_user_id) AS count FROM care_team_members \
             WHERE clinic_id = '{clinic_id}'"
        ),
    )
    .await;
    assert!(providers >= 3, "{providers}");
}

#[tokio::test]
async fn demo_patient_has_content_and_team() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let options = CohortOptions {
        clinic_slug: "demo-test".to_owned(),
        patients: 3,
        seed: 1,
    };
    let summary = generate(&services, &options, |_| {}).await.unwrap();
    let ensure = || {
        ensure_demo_patient(
            &services,
            summary.clinic_id,
            "demo-test",
            &summary.staff,
            options.seed,
        )
    };
    let email = ensure().await.unwrap();
    assert_eq!(email, demo_patient_email("demo-test").unwrap());
    assert_eq!(email, "patient.1@demo-test.synthetic.invalid");
    assert_eq!(ensure().await.unwrap(), email, "a second run reuses her");
    assert!(
        summary
            .staff_emails
            .contains(&"compliance-officer.1@demo-test.synthetic.invalid".to_owned())
    );

    let account = accounts::find_by_email(&mut clinic.conn, &services.blind_index, &email)
        .await
        .unwrap()
        .expect("the demo patient's account exists");
    let clinic_id = summary.clinic_id;
    let user = account.id;
    let of_her = |table: &str, condition: &str| {
        format!(
            "SELECT count(*) AS count FROM {table} AS row JOIN patients AS patient \
             ON patient.clinic_id = row.clinic_id AND patient.id = row.patient_id \
             WHERE patient.clinic_id = '{clinic_id}' AND patient.user_id = '{user}' {condition}"
        )
    };
    let patients = count(
        &mut clinic.conn,
        &format!("SELECT count(*) AS count FROM patients WHERE user_id = '{user}'"),
    )
    .await;
    assert_eq!(patients, 1, "one record, also after the second run");
    for kind in ["epds", "blood_pressure", "temperature", "weight", "feeding"] {
        let observations = count(
            &mut clinic.conn,
            &of_her("observations", &format!("AND row.kind = '{kind}'")),
        )
        .await;
        assert!(observations > 0, "no {kind} observation");
    }
    let threads = count(&mut clinic.conn, &of_her("message_threads", "")).await;
    assert!(threads > 0, "no message thread");
    let consents = count(&mut clinic.conn, &of_her("consent_grants", "")).await;
    assert_eq!(consents, 1, "one synthetic care consent");

    let staff = &summary.staff;
    let first_members = [
        staff.midwives[0],
        staff.gps[0],
        staff.lactation_consultants[0],
        staff.mental_health_specialists[0],
        staff.care_coordinators[0],
    ];
    for member in first_members {
        let memberships = count(
            &mut clinic.conn,
            &of_her(
                "care_team_members",
                &format!("AND row.provider_user_id = '{member}' AND row.ends_at IS NULL"),
            ),
        )
        .await;
        assert_eq!(memberships, 1, "{member} is not on her care team");
    }
}

#[tokio::test]
async fn generator_command_reports_progress() {
    let clinic = Clinic::new().await;
    let blind_index_key = SecretKey::generate();
    let kek = [("NURTURE_KEK", SecretKey::generate().to_base64())];

    let (status, output) = run_command(
        &clinic.app.database.url,
        &[
            "generate-cohort",
            "--clinic",
            "cohort-cli",
            "--patients",
            "3",
            "--seed",
            "5",
            "--staff-links",
            "--demo-patient",
        ],
        &kek,
        &blind_index_key,
    )
    .await;
    let (bad_status, bad_output) = run_command(
        &clinic.app.database.url,
        &[
            "generate-cohort",
            "--clinic",
            "cohort-cli",
            "--patients",
            "0",
            "--seed",
            "5",
        ],
        &kek,
        &blind_index_key,
    )
    .await;

    assert_eq!(status, Some(0), "{output}");
    assert!(output.contains("generated 3 of 3 patients"), "{output}");
    assert!(output.contains("3 more synthetic patients"), "{output}");
    assert!(output.contains("mothers use the portal"), "{output}");
    assert!(
        output.contains("Enrollment link for midwife.1@cohort-cli.synthetic.invalid"),
        "{output}"
    );
    assert!(
        output.contains("Enrollment link for compliance-officer.1@cohort-cli.synthetic.invalid"),
        "{output}"
    );
    assert!(
        output.contains("demo patient: patient.1@cohort-cli.synthetic.invalid"),
        "{output}"
    );
    assert!(
        output.contains("Enrollment link for patient.1@cohort-cli.synthetic.invalid"),
        "{output}"
    );
    assert_eq!(output.matches("/enroll#").count(), 7, "{output}");
    assert_eq!(bad_status, Some(1), "{bad_output}");
    assert!(bad_output.contains("--patients \"0\""), "{bad_output}");
}

/// Records the SQL of every statement that `conn` sends from now on.
fn watch_statements(conn: &mut AsyncPgConnection) -> Arc<Mutex<Vec<String>>> {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&sent);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            log.lock().unwrap().push(query.to_string());
        }
    });
    sent
}

fn sent_matching(sent: &Mutex<Vec<String>>, text: &str) -> usize {
    sent.lock()
        .unwrap()
        .iter()
        .filter(|statement| statement.contains(text))
        .count()
}

#[tokio::test]
async fn reads_join_the_callers_transaction() {
    let mut clinic = Clinic::new().await;
    let services = clinic.app.state.services.clone();
    let keys = RecordKeys::from_services(&services);
    let patient_id = clinic.patient("Ines Duarte").await;
    let maternal = allow(
        &clinic.app,
        &clinic.actor,
        patient_id,
        DataCategory::Maternal,
        Action::Read,
    )
    .await;
    let sent = watch_statements(&mut clinic.conn);

    // On its own, a read commits its access event in a transaction of its own.
    let before = audit_count(&mut clinic.conn).await;
    app::records::list_notes(&mut clinic.conn, keys, &maternal, Classification::Maternal)
        .await
        .unwrap();
    assert_eq!(audit_count(&mut clinic.conn).await - before, 1);
    assert_eq!(sent_matching(&sent, "BEGIN"), 1);
    assert_eq!(sent_matching(&sent, "COMMIT"), 1);

    // Inside a caller's transaction, three reads add no savepoint, and the patient's key is
    // loaded once inside `remembering_keys`.
    sent.lock().unwrap().clear();
    let before = audit_count(&mut clinic.conn).await;
    let maternal_ref = &maternal;
    clinic
        .conn
        .transaction::<_, RecordsError, _>(async |conn| {
            let reads = async {
                app::records::list_notes(conn, keys, maternal_ref, Classification::Maternal)
                    .await?;
                app::records::list_clinical_entries(
                    conn,
                    keys,
                    maternal_ref,
                    Classification::Maternal,
                )
                .await?;
                let kinds = [ObservationKind::BloodPressure];
                app::records::list_observations(conn, keys, maternal_ref, &kinds).await
            };
            app::records::remembering_keys(reads).await?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(sent_matching(&sent, "SAVEPOINT"), 0);
    assert_eq!(sent_matching(&sent, "data_key_wrapped"), 1);
    assert_eq!(audit_count(&mut clinic.conn).await - before, 3);

    // When the caller's transaction fails after the reads, their events roll back with it.
    let before = audit_count(&mut clinic.conn).await;
    let failed = clinic
        .conn
        .transaction::<(), RecordsError, _>(async |conn| {
            app::records::list_notes(conn, keys, maternal_ref, Classification::Maternal).await?;
            Err(RecordsError::NotFound)
        })
        .await;
    assert!(matches!(failed, Err(RecordsError::NotFound)));
    assert_eq!(audit_count(&mut clinic.conn).await, before);

    // Without `remembering_keys`, each read loads the key again.
    sent.lock().unwrap().clear();
    for _ in 0..2 {
        app::records::list_notes(&mut clinic.conn, keys, &maternal, Classification::Maternal)
            .await
            .unwrap();
    }
    assert_eq!(sent_matching(&sent, "data_key_wrapped"), 2);
}
