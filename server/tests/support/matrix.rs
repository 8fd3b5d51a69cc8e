//! The world of the authorization matrix: a persona for every role, and patients in every
//! relationship to them under every state of care consent, each with entries, observations,
//! an infant and an appointment.

use std::collections::HashMap;

use app::access::DataCategory;
use app::audit::ClientInfo;
use app::chart::PatientDataFunction;
use app::clinical::units::{Entered, MassUnit, PressureUnit};
use app::clinical::vitals::BloodPressureReading;
use app::identity::Role;
use app::identity::server::accounts;
use app::ids::{ClinicId, ExportId, PatientId, ThreadId, UserId};
use app::records::{
    AccessContext, AppointmentKind, AppointmentStatus, Classification, ImportedInfant,
    ImportedPatient, NewAppointment, NewCareTeamMember, NewClinicalEntry, NewInfant,
    NewObservation, NewPatient, NewThread, ObservationValue, RecordKeys, observation_category,
};

use super::consents::SHARING_RECIPIENT;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::TestApp;
use super::personas::{Persona, persona};

/// The signed-in user's relationship to the patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relationship {
    /// The patient's record is linked to the user's own account.
    OwnRecord,
    OnCareTeam,
    OffCareTeam,
    OtherClinic,
    /// The user's membership ended yesterday.
    ExpiredMembership,
    /// The user has a break-glass grant in force.
    UnderBreakGlass,
    /// The user's break-glass grant expired an hour ago.
    AfterBreakGlassExpiry,
}

impl Relationship {
    pub const ALL: [Relationship; 7] = [
        Relationship::OwnRecord,
        Relationship::OnCareTeam,
        Relationship::OffCareTeam,
        Relationship::OtherClinic,
        Relationship::ExpiredMembership,
        Relationship::UnderBreakGlass,
        Relationship::AfterBreakGlassExpiry,
    ];
}

/// State of the patient's care-coordination consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consent {
    Granted,
    Revoked,
    Expired,
    Never,
}

impl Consent {
    pub const ALL: [Consent; 4] = [
        Consent::Granted,
        Consent::Revoked,
        Consent::Expired,
        Consent::Never,
    ];
}

/// Everything the matrix needs.
pub struct World {
    pub app: TestApp,
    pub clinic: ClinicId,
    pub other_clinic: ClinicId,
    pub personas: HashMap<Role, Persona>,
    /// A midwife whom no cell signs in as: cells add her to care teams and file break-glass
    /// requests in her name, which changes no other cell's outcome.
    pub bystander: Persona,
    /// A current consent version of the clinic, for signature ceremonies.
    care_version: String,
    shared: HashMap<(Relationship, Consent), PatientId>,
    own: HashMap<(Role, Consent), (Persona, PatientId)>,
    entries: HashMap<(PatientId, DataCategory), String>,
    observations: HashMap<(PatientId, DataCategory), String>,
    infants: HashMap<PatientId, String>,
}

const TEAM_ROLES: [Role; 5] = [
    Role::PrimaryCareProvider,
    Role::Midwife,
    Role::LactationConsultant,
    Role::MentalHealthSpecialist,
    Role::CareCoordinator,
];

impl World {
    pub async fn build() -> Self {
        let app = TestApp::new().await;
        let mut conn = super::connect(&app.database.url).await;
        let clinic = accounts::ensure_clinic(&mut conn, "harbour", "Harbour Clinic")
            .await
            .unwrap();
        let other_clinic = accounts::ensure_clinic(&mut conn, "ridge", "Ridge Clinic")
            .await
            .unwrap();
        let mut personas = HashMap::new();
        for role in Role::ALL {
            let name = format!("Synthetic {}", role.label());
            let persona = persona(&app, &mut conn, clinic, &name, &[role], 0).await;
            personas.insert(role, persona);
        }
        let author = personas[&Role::PrimaryCareProvider].user;
        let bystander = persona(
            &app,
            &mut conn,
            clinic,
            "Synthetic Locum Midwife",
            &[Role::Midwife],
            0,
        )
        .await;

        let mut shared = HashMap::new();
        for relationship in Relationship::ALL {
            if relationship == Relationship::OwnRecord {
                continue;
            }
            for consent in Consent::ALL {
                let home = if relationship == Relationship::OtherClinic {
                    other_clinic
                } else {
                    clinic
                };
                let team = care_team(&personas, relationship);
                let patient = import(&app, &mut conn, home, author, None, team).await;
                grant_emergency(&mut conn, &personas, home, patient, relationship).await;
                shared.insert((relationship, consent), patient);
            }
        }
        // A record belongs to one account, so each own record has a persona of its own.
        let mut own = HashMap::new();
        for role in Role::ALL {
            for consent in Consent::ALL {
                let owner = if consent == Consent::Never {
                    personas[&role].clone()
                } else {
                    let name = format!("Synthetic {}", role.label());
                    persona(&app, &mut conn, clinic, &name, &[role], 0).await
                };
                let user = Some(owner.user);
                let patient = import(&app, &mut conn, clinic, author, user, Vec::new()).await;
                own.insert((role, consent), (owner, patient));
            }
        }
        let all: Vec<(PatientId, Consent)> = shared
            .iter()
            .map(|((_, consent), patient)| (*patient, *consent))
            .chain(
                own.iter()
                    .map(|((_, consent), (_, patient))| (*patient, *consent)),
            )
            .collect();
        // The data-sharing consent is in the same state as the care consent, so that the
        // consent dimension of export cells covers both.
        for (patient, consent) in all {
            super::consents::set_consent(&app, &mut conn, patient, consent).await;
            super::consents::set_sharing_consent(&app, &mut conn, patient, consent).await;
        }

        let (entries, observations, infants) = row_ids(&mut conn).await;
        let care_version = any_version(&mut conn, clinic).await;
        Self {
            app,
            clinic,
            other_clinic,
            personas,
            bystander,
            care_version,
            shared,
            own,
            entries,
            observations,
            infants,
        }
    }

    /// Returns the patient who is in `relationship` to [`World::persona`] of `role`.
    pub fn patient(&self, relationship: Relationship, consent: Consent, role: Role) -> PatientId {
        if relationship == Relationship::OwnRecord {
            self.own[&(role, consent)].1
        } else {
            self.shared[&(relationship, consent)]
        }
    }

    /// Returns the persona of `role` for a cell: the owner of the record for an own record,
    /// otherwise the role's one persona.
    pub fn persona(&self, relationship: Relationship, consent: Consent, role: Role) -> &Persona {
        if relationship == Relationship::OwnRecord {
            &self.own[&(role, consent)].0
        } else {
            &self.personas[&role]
        }
    }

    pub fn entry_id(&self, patient: PatientId, category: DataCategory) -> String {
        self.entries[&(patient, category)].clone()
    }

    pub fn observation_id(&self, patient: PatientId, category: DataCategory) -> String {
        self.observations[&(patient, category)].clone()
    }

    /// Arguments that ask `function` for `category` of `patient`.
    pub fn arguments(
        &self,
        function: &PatientDataFunction,
        category: DataCategory,
        patient: PatientId,
    ) -> Vec<(&'static str, String)> {
        let purpose = ("purpose", "postnatal follow-up".to_owned());
        let patient_id = ("patient_id", patient.to_string());
        let category_text = (
            "category",
            serde_json::to_value(category)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
        );
        match function.endpoint {
            "chart/summary" | "chart/appointments" | "chart/schedule" | "chart/vitals"
            | "chart/screenings" | "chart/infants" | "chart/open" => vec![patient_id, purpose],
            "chart/tasks" | "chart/alerts" => vec![patient_id, category_text, purpose],
            "chart/vitals/blood-pressure" => vec![
                patient_id,
                ("systolic", "128".to_owned()),
                ("diastolic", "82".to_owned()),
                ("unit", "millimetres_of_mercury".to_owned()),
                purpose,
            ],
            "chart/vitals/temperature" => vec![
                patient_id,
                ("value", "37.1".to_owned()),
                ("unit", "celsius".to_owned()),
                purpose,
            ],
            "chart/entries" | "chart/notes" | "chart/observations" => {
                vec![patient_id, category_text, purpose]
            }
            "chart/entries/add" => vec![
                patient_id,
                category_text,
                ("entry_type", "visit_summary".to_owned()),
                ("payload", r#"{"summary":"synthetic"}"#.to_owned()),
                purpose,
            ],
            "chart/notes/add" => vec![
                patient_id,
                category_text,
                ("body", "Synthetic note".to_owned()),
                purpose,
            ],
            "chart/observations/add" => {
                let mut arguments = vec![
                    patient_id,
                    (
                        "value",
                        serde_json::to_string(&value_for(category)).unwrap(),
                    ),
                    purpose,
                ];
                if category == DataCategory::Infant {
                    arguments.push(("infant_id", self.infants[&patient].clone()));
                }
                arguments
            }
            "chart/entries/by-id" => vec![("ids[0]", self.entry_id(patient, category)), purpose],
            "chart/observations/by-id" => {
                vec![("ids[0]", self.observation_id(patient, category)), purpose]
            }
            "exports/request" => vec![
                patient_id,
                ("recipient", SHARING_RECIPIENT.to_owned()),
                ("categories[0]", category_text.1),
                purpose,
            ],
            "exports/list" => vec![patient_id, purpose],
            "care-team/list" | "messages/contacts" => vec![patient_id],
            "messages/threads" => vec![patient_id, ("topic", category_text.1)],
            "chart/find" => vec![("name", "Mira Testwell".to_owned()), purpose],
            "emergency/request" => vec![
                patient_id,
                ("level", "urgent".to_owned()),
                (
                    "justification",
                    "Synthetic urgent review for the test".to_owned(),
                ),
            ],
            "care-team/add" => vec![
                patient_id,
                ("provider", self.bystander.user.to_string()),
                ("role", "midwife".to_owned()),
            ],
            "consent/sign/begin" => vec![("version_id", self.care_version.clone())],
            "dashboard/patients" => vec![
                ("filter[with_alerts]", "false".to_owned()),
                ("filter[with_unread]", "false".to_owned()),
                ("filter[with_tasks]", "false".to_owned()),
                ("filter[name]", String::new()),
            ],
            "dashboard/tasks" | "dashboard/alerts" => Vec::new(),
            "emergency/mine"
            | "emergency/pending"
            | "emergency/unreviewed"
            | "emergency/notifications" => Vec::new(),
            "portal/summary"
            | "portal/access-history"
            | "consent/texts"
            | "consent/mine"
            | "consent/verify"
            | "portal/home"
            | "portal/infants"
            | "portal/screenings"
            | "portal/vitals" => Vec::new(),
            "portal/infants/add" | "portal/check-in" | "screenings/assign" => {
                portal_arguments(function.endpoint, patient_id, purpose)
            }
            "portal/vitals/blood-pressure" | "portal/vitals/temperature" => {
                portal_arguments(function.endpoint, patient_id, purpose)
            }
            "portal/feeding" | "portal/growth" | "portal/feeding/add" | "portal/growth/add" => {
                let mut arguments = vec![("infant_id", self.infants[&patient].clone())];
                arguments.extend(portal_arguments(function.endpoint, patient_id, purpose));
                arguments
            }
            other => panic!("the matrix has no arguments for {other}; add them here"),
        }
    }

    /// Arguments for a cell of `function`, after storing what the cell needs first: an export
    /// of `persona`'s built by the worker's step, a break-glass request to decide or review, a
    /// membership to end, or a grant to revoke.
    pub async fn prepare(
        &self,
        function: &PatientDataFunction,
        category: DataCategory,
        patient: PatientId,
        persona: &Persona,
    ) -> Vec<(&'static str, String)> {
        let mut conn = self.app.pool.get().await.unwrap();
        let patient_id = ("patient_id", patient.to_string());
        match function.endpoint {
            "exports/download" => {
                let export = queue_export(&mut conn, persona, patient, category).await;
                let keys = RecordKeys::from_services(&self.app.state.services);
                app::exports::build_export_at(&mut conn, keys, export, Utc::now())
                    .await
                    .unwrap();
                vec![("export_id", export.to_string())]
            }
            "emergency/decide" => {
                let id = self.emergency_request(&mut conn, patient, false).await;
                vec![
                    ("id", id.to_string()),
                    ("approve", "false".to_owned()),
                    ("reason", "Synthetic decision".to_owned()),
                ]
            }
            "emergency/review" => {
                let id = self.emergency_request(&mut conn, patient, true).await;
                vec![
                    ("id", id.to_string()),
                    ("note", "Synthetic review".to_owned()),
                ]
            }
            "care-team/end" => {
                let id = self
                    .bystander_membership(&mut conn, patient, "midwife")
                    .await;
                vec![patient_id, ("membership_id", id.to_string())]
            }
            "messages/thread" | "messages/send" => {
                let thread = self.thread_of(&mut conn, patient, category, persona).await;
                let mut arguments = vec![("thread_id", thread.to_string())];
                if function.endpoint == "messages/send" {
                    arguments.push(("body", "Synthetic reply".to_owned()));
                }
                arguments
            }
            "messages/start" => {
                // A GP may read every topic, so the bystander's membership admits her to any
                // thread the cell starts.
                self.bystander_membership(&mut conn, patient, "primary_care_provider")
                    .await;
                let topic = serde_json::to_value(category).unwrap();
                vec![
                    patient_id,
                    ("topic", topic.as_str().unwrap().to_owned()),
                    ("subject", "Synthetic subject".to_owned()),
                    ("body", "Synthetic first message".to_owned()),
                    ("members[0]", self.bystander.user.to_string()),
                ]
            }
            "chart/tasks/update" => {
                let id = insert_task(&mut conn, patient, category).await;
                vec![
                    patient_id,
                    ("category", category_name(category)),
                    ("task_id", id.to_string()),
                    ("status", "in_progress".to_owned()),
                    ("note", "Synthetic note on the task".to_owned()),
                    ("purpose", "postnatal follow-up".to_owned()),
                ]
            }
            "chart/alerts/acknowledge" => {
                let observation = self.observation_id(patient, category);
                let id = insert_alert(&mut conn, patient, category, &observation).await;
                vec![
                    patient_id,
                    ("category", category_name(category)),
                    ("alert_id", id.to_string()),
                    ("purpose", "postnatal follow-up".to_owned()),
                ]
            }
            "chart/appointments/add" => {
                // The persona is on the care team exactly in the cells that may book.
                let starts_at = (Utc::now() + Duration::days(2)).format("%Y-%m-%dT%H:%M");
                vec![
                    patient_id,
                    ("clinician", persona.user.to_string()),
                    ("starts_at", starts_at.to_string()),
                    ("duration_minutes", "30".to_owned()),
                    ("kind", "postnatal_visit".to_owned()),
                    ("purpose", "postnatal follow-up".to_owned()),
                ]
            }
            "consent/revoke" => {
                let keys = self.app.state.services.keys.clone();
                let scope = super::consents::sharing_scope(SHARING_RECIPIENT, vec![category]);
                let starts_at = Utc::now() - Duration::days(1);
                let grant = super::consents::grant(
                    &mut conn,
                    keys.as_ref(),
                    patient,
                    scope,
                    starts_at,
                    None,
                )
                .await;
                vec![
                    ("grant_id", grant.to_string()),
                    ("reason", "Synthetic reason".to_owned()),
                ]
            }
            _ => self.arguments(function, category, patient),
        }
    }

    /// Stores a break-glass request of the bystander for `patient`: pending, or granted and
    /// already expired, so that it opens nothing.
    async fn emergency_request(
        &self,
        conn: &mut AsyncPgConnection,
        patient: PatientId,
        granted: bool,
    ) -> uuid::Uuid {
        let id = uuid::Uuid::new_v4();
        let now = Utc::now();
        let (status, granted_at, expires_at) = if granted {
            let granted_at = now - Duration::hours(5);
            ("granted", Some(granted_at), Some(now - Duration::hours(1)))
        } else {
            ("pending", None, None)
        };
        diesel::sql_query(
            "INSERT INTO emergency_access (id, clinic_id, patient_id, requester_user_id, level, \
             justification, status, requested_at, decided_at, granted_at, expires_at) \
             SELECT $1, clinic_id, id, $2, 'urgent', 'Synthetic emergency for the test', $3, \
             $4, $5, $5, $6 FROM patients WHERE id = $7",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(self.bystander.user.0)
        .bind::<Text, _>(status)
        .bind::<Timestamptz, _>(now - Duration::hours(6))
        .bind::<Nullable<Timestamptz>, _>(granted_at)
        .bind::<Nullable<Timestamptz>, _>(expires_at)
        .bind::<SqlUuid, _>(patient.0)
        .execute(conn)
        .await
        .unwrap();
        id
    }

    /// Stores an open membership of the bystander in `role` on `patient`'s care team.
    async fn bystander_membership(
        &self,
        conn: &mut AsyncPgConnection,
        patient: PatientId,
        role: &str,
    ) -> uuid::Uuid {
        let id = uuid::Uuid::new_v4();
        diesel::sql_query(
            "INSERT INTO care_team_members (id, clinic_id, patient_id, provider_user_id, role, \
             starts_at) SELECT $1, clinic_id, id, $2, $3, now() - interval '1 day' \
             FROM patients WHERE id = $4",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(self.bystander.user.0)
        .bind::<Text, _>(role)
        .bind::<SqlUuid, _>(patient.0)
        .execute(conn)
        .await
        .unwrap();
        id
    }

    /// Stores a thread about `patient` on `category` that the bystander started and `persona`
    /// takes part in, whatever her relationship to the patient, so that the cell's outcome
    /// rests on the policy alone.
    async fn thread_of(
        &self,
        conn: &mut AsyncPgConnection,
        patient: PatientId,
        category: DataCategory,
        persona: &Persona,
    ) -> ThreadId {
        self.bystander_membership(conn, patient, "primary_care_provider")
            .await;

        let owner = app::records::patient_owner(conn, patient)
            .await
            .unwrap()
            .unwrap();
        let access = AccessContext {
            actor: self.bystander.user,
            actor_roles: self.bystander.roles.clone(),
            clinic_id: owner.clinic,
            purpose: "matrix setup".to_owned(),
            emergency: false,
            client: ClientInfo {
                address: None,
                user_agent: None,
                request_id: Some("matrix-setup".to_owned()),
            },
        };
        let new = NewThread {
            classification: Classification::from_category(category).unwrap(),
            subject: "Synthetic subject".to_owned(),
            participants: Vec::new(),
            first_message: "Synthetic first message".to_owned(),
        };
        let keys = RecordKeys::from_services(&self.app.state.services);
        let thread = app::records::start_thread(conn, keys, &access, patient, &new)
            .await
            .unwrap();

        diesel::sql_query(
            "INSERT INTO message_participants (clinic_id, thread_id, user_id) \
             SELECT clinic_id, id, $1 FROM message_threads WHERE id = $2",
        )
        .bind::<SqlUuid, _>(persona.user.0)
        .bind::<SqlUuid, _>(thread.0)
        .execute(conn)
        .await
        .unwrap();
        thread
    }

    /// A consent version of the clinic that a patient may sign.
    pub fn care_version(&self) -> &str {
        &self.care_version
    }
}

#[derive(QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
}

/// Returns a care-coordination version of the clinic; each test template has one version.
async fn any_version(conn: &mut AsyncPgConnection, clinic: ClinicId) -> String {
    let row: VersionRow = diesel::sql_query(
        "SELECT v.id FROM consent_template_versions v \
         JOIN consent_templates t ON t.id = v.template_id \
         WHERE v.clinic_id = $1 AND t.kind = 'care_coordination' ORDER BY v.id LIMIT 1",
    )
    .bind::<SqlUuid, _>(clinic.0)
    .get_result(conn)
    .await
    .unwrap();
    row.id.to_string()
}

/// Queues an export of one category of `patient` as `persona` had asked for it, without the
/// checks of the request, so that the download cell finds an export of every requester.
async fn queue_export(
    conn: &mut AsyncPgConnection,
    persona: &Persona,
    patient: PatientId,
    category: DataCategory,
) -> ExportId {
    let id = ExportId::new_random();
    let category = serde_json::to_value(category).unwrap();
    diesel::sql_query(
        "INSERT INTO data_exports (id, clinic_id, patient_id, requester_user_id, recipient, \
         purpose, data_categories, status, requested_at) \
         SELECT $1, clinic_id, id, $2, $3, 'postnatal follow-up', ARRAY[$4], 'queued', now() \
         FROM patients WHERE id = $5",
    )
    .bind::<SqlUuid, _>(id.0)
    .bind::<SqlUuid, _>(persona.user.0)
    .bind::<Text, _>(SHARING_RECIPIENT)
    .bind::<Text, _>(category.as_str().unwrap())
    .bind::<SqlUuid, _>(patient.0)
    .execute(conn)
    .await
    .unwrap();
    id
}

/// Returns the wire name of a category.
fn category_name(category: DataCategory) -> String {
    serde_json::to_value(category)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// Stores an open care task of `patient` in `category`, owned by the midwife role.
pub async fn insert_task(
    conn: &mut AsyncPgConnection,
    patient: PatientId,
    category: DataCategory,
) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO care_tasks (id, clinic_id, patient_id, kind, category, priority, owner_role, \
         due_at, status, created_at, updated_at) \
         SELECT $1, clinic_id, id, 'raised_blood_pressure', $2, 1, 'midwife', \
         now() + interval '1 day', 'open', now(), now() FROM patients WHERE id = $3",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(category_name(category))
    .bind::<SqlUuid, _>(patient.0)
    .execute(conn)
    .await
    .unwrap();
    id
}

/// Stores an unacknowledged alert of `patient` in `category`, with the protocol firing on
/// `observation` that raised it.
pub async fn insert_alert(
    conn: &mut AsyncPgConnection,
    patient: PatientId,
    category: DataCategory,
    observation: &str,
) -> uuid::Uuid {
    let firing = uuid::Uuid::new_v4();
    let observation = uuid::Uuid::parse_str(observation).unwrap();
    diesel::sql_query(
        "INSERT INTO protocol_firings (id, clinic_id, patient_id, observation_id, rule, \
         settings_version, threshold, observed, fired_at) \
         SELECT $1, clinic_id, id, $2, 'severe_blood_pressure', 0, '160/110 mmHg', \
         '165/112 mmHg', now() FROM patients WHERE id = $3",
    )
    .bind::<SqlUuid, _>(firing)
    .bind::<SqlUuid, _>(observation)
    .bind::<SqlUuid, _>(patient.0)
    .execute(conn)
    .await
    .unwrap();
    let id = uuid::Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO care_alerts (id, clinic_id, patient_id, firing_id, category, priority, \
         roles, raised_at) \
         SELECT $1, clinic_id, id, $2, $3, 2, ARRAY['midwife'], now() FROM patients WHERE id = $4",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(firing)
    .bind::<Text, _>(category_name(category))
    .bind::<SqlUuid, _>(patient.0)
    .execute(conn)
    .await
    .unwrap();
    id
}

/// Arguments of the portal's functions, apart from the infant id.
fn portal_arguments(
    endpoint: &str,
    patient_id: (&'static str, String),
    purpose: (&'static str, String),
) -> Vec<(&'static str, String)> {
    let pairs: &[(&'static str, &str)] = match endpoint {
        "portal/infants/add" => &[
            ("name", "Robin Testwell (synthetic)"),
            ("birth_weight_grams", "3300"),
            ("sex", "male"),
        ],
        "portal/check-in" => &[("instrument", "epds"), ("answers", "[0,0,3,0,3,3,3,3,3,3]")],
        "screenings/assign" => &[("instrument", "phq9")],
        "portal/vitals/blood-pressure" => &[
            ("systolic", "118"),
            ("diastolic", "76"),
            ("unit", "millimetres_of_mercury"),
        ],
        "portal/vitals/temperature" => &[("value", "36.9"), ("unit", "celsius")],
        "portal/feeding/add" => &[
            ("kind", "breastfeed"),
            ("breast_side", "left"),
            ("duration_minutes", "15"),
        ],
        "portal/growth/add" => &[
            ("measure", "weight"),
            ("value", "4.1"),
            ("unit", "kilograms"),
        ],
        _ => &[],
    };
    let mut arguments: Vec<(&'static str, String)> = pairs
        .iter()
        .map(|(key, value)| (*key, (*value).to_owned()))
        .collect();
    match endpoint {
        "portal/infants/add" => {
            let born = Utc::now().date_naive() - Duration::days(20);
            arguments.push(("birth_date", born.to_string()));
        }
        "screenings/assign" => {
            arguments.insert(0, patient_id);
            arguments.push(purpose);
        }
        _ => {}
    }
    arguments
}

/// An observation value whose category is `category`.
fn value_for(category: DataCategory) -> ObservationValue {
    match category {
        DataCategory::Infant => {
            ObservationValue::weight(Entered::new(4100.0, MassUnit::Grams)).unwrap()
        }
        DataCategory::MentalHealth => ObservationValue::epds(vec![Some(1); 10]).unwrap(),
        _ => ObservationValue::blood_pressure(BloodPressureReading {
            systolic: 118.0,
            diastolic: 76.0,
            unit: PressureUnit::MillimetresOfMercury,
        })
        .unwrap(),
    }
}

fn care_team(
    personas: &HashMap<Role, Persona>,
    relationship: Relationship,
) -> Vec<NewCareTeamMember> {
    let now = Utc::now();
    let (starts_at, ends_at) = match relationship {
        Relationship::OnCareTeam => (now - Duration::days(10), None),
        Relationship::ExpiredMembership => {
            (now - Duration::days(30), Some(now - Duration::days(1)))
        }
        _ => return Vec::new(),
    };
    TEAM_ROLES
        .into_iter()
        .map(|role| NewCareTeamMember {
            provider: personas[&role].user,
            role,
            starts_at,
            ends_at,
        })
        .collect()
}

/// Stores break-glass grants for every staff persona, in force or expired.
async fn grant_emergency(
    conn: &mut AsyncPgConnection,
    personas: &HashMap<Role, Persona>,
    clinic: ClinicId,
    patient: PatientId,
    relationship: Relationship,
) {
    let now = Utc::now();
    let (granted_at, expires_at) = match relationship {
        Relationship::UnderBreakGlass => (now - Duration::hours(1), now + Duration::hours(3)),
        Relationship::AfterBreakGlassExpiry => (now - Duration::hours(5), now - Duration::hours(1)),
        _ => return,
    };
    for (role, persona) in personas {
        if *role == Role::Patient {
            continue;
        }
        insert_grant(conn, clinic, patient, persona.user, granted_at, expires_at).await;
    }
}

/// Inserts a granted break-glass request.
pub async fn insert_grant(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patient: PatientId,
    user: UserId,
    granted_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) {
    diesel::sql_query(
        "INSERT INTO emergency_access (id, clinic_id, patient_id, requester_user_id, level, \
         justification, status, requested_at, decided_at, granted_at, expires_at) \
         VALUES ($1, $2, $3, $4, 'critical', 'Synthetic emergency for the test', 'granted', \
         $5, $5, $5, $6)",
    )
    .bind::<SqlUuid, _>(uuid::Uuid::new_v4())
    .bind::<SqlUuid, _>(clinic.0)
    .bind::<SqlUuid, _>(patient.0)
    .bind::<SqlUuid, _>(user.0)
    .bind::<Timestamptz, _>(granted_at)
    .bind::<Timestamptz, _>(expires_at)
    .execute(conn)
    .await
    .unwrap();
}

/// Imports one synthetic patient with an infant, an entry of every classification, maternal,
/// infant and mental health observations, and an appointment.
pub async fn import(
    app: &TestApp,
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    author: UserId,
    user: Option<UserId>,
    care_team: Vec<NewCareTeamMember>,
) -> PatientId {
    let now = Utc::now();
    let entry = |classification| NewClinicalEntry {
        classification,
        infant_id: None,
        entry_type: "intake".to_owned(),
        recorded_at: now - Duration::days(2),
        payload: serde_json::json!({ "summary": "synthetic" }),
    };
    let observation = |category| NewObservation {
        infant_id: None,
        observed_at: now - Duration::days(1),
        value: value_for(category),
    };
    let record = ImportedPatient {
        patient: NewPatient {
            user_id: user,
            full_name: "Mira Testwell (synthetic)".to_owned(),
            date_of_birth: NaiveDate::from_ymd_opt(1993, 5, 2).unwrap(),
            address: "1 Example Road, Testville (synthetic)".to_owned(),
            phone: "+44 7700 900001".to_owned(),
        },
        author,
        infants: vec![ImportedInfant {
            infant: NewInfant {
                name: "Wren Testwell (synthetic)".to_owned(),
                birth_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                birth_weight: Entered::new(3400.0, MassUnit::Grams),
                sex: app::clinical::growth::Sex::Female,
            },
            observations: vec![observation(DataCategory::Infant)],
            entries: Vec::new(),
        }],
        observations: vec![
            observation(DataCategory::Maternal),
            observation(DataCategory::MentalHealth),
        ],
        entries: Classification::ALL.into_iter().map(entry).collect(),
        care_team,
        appointments: vec![NewAppointment {
            clinician: author,
            starts_at: now + Duration::days(3),
            ends_at: now + Duration::days(3) + Duration::minutes(30),
            kind: AppointmentKind::PostnatalVisit,
            status: AppointmentStatus::Scheduled,
        }],
        threads: Vec::new(),
    };
    let keys = RecordKeys::from_services(&app.state.services);
    app::records::import_patients(conn, keys, clinic, "synthetic test data", &[record])
        .await
        .unwrap()
        .remove(0)
}

#[derive(QueryableByName)]
struct RowOwner {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = SqlUuid)]
    patient_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    label: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    infant_id: Option<uuid::Uuid>,
}

type RowMap = HashMap<(PatientId, DataCategory), String>;

async fn row_ids(conn: &mut AsyncPgConnection) -> (RowMap, RowMap, HashMap<PatientId, String>) {
    let load = |statement: &'static str| diesel::sql_query(statement);
    let entry_rows: Vec<RowOwner> =
        load("SELECT id, patient_id, classification AS label, infant_id FROM clinical_entries")
            .load(conn)
            .await
            .unwrap();
    let observation_rows: Vec<RowOwner> =
        load("SELECT id, patient_id, kind AS label, infant_id FROM observations")
            .load(conn)
            .await
            .unwrap();
    let infant_rows: Vec<RowOwner> =
        load("SELECT id, patient_id, 'infant' AS label, NULL::uuid AS infant_id FROM infants")
            .load(conn)
            .await
            .unwrap();

    let mut entries = HashMap::new();
    for row in entry_rows {
        let category = Classification::parse(&row.label).unwrap().category();
        entries.insert((PatientId(row.patient_id), category), row.id.to_string());
    }
    let mut observations = HashMap::new();
    for row in observation_rows {
        let kind = app::records::ObservationKind::parse(&row.label).unwrap();
        let category = observation_category(kind, row.infant_id.is_some());
        observations.insert((PatientId(row.patient_id), category), row.id.to_string());
    }
    let infants = infant_rows
        .into_iter()
        .map(|row| (PatientId(row.patient_id), row.id.to_string()))
        .collect();
    (entries, observations, infants)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Counts the rows of `table` that belong to `patient`.
pub async fn count_rows(conn: &mut AsyncPgConnection, table: &str, patient: PatientId) -> i64 {
    diesel::sql_query(format!(
        "SELECT count(*) AS count FROM {table} WHERE patient_id = $1"
    ))
    .bind::<SqlUuid, _>(patient.0)
    .get_result::<Count>(conn)
    .await
    .unwrap()
    .count
}
