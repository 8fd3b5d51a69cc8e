//! The authorization matrix: every server function that touches patient data, as
//! every role, in every relationship to the patient, under every state of her consents.
//! Each cell calls the function through the real router over HTTP and checks both the answer
//! (200 or the same 404 as for a missing record) and the audit events of that one request,
//! found by its `x-request-id`. The expected outcomes come from the permission table, the role
//! sets of [`rule`] and the rules written out in [`expected`], independently of
//! `app::access::policy`.
//!
//! Also here: the registry completeness check and direct-id attacks.

mod support;

use std::sync::Arc;

use app::access::{Action, DataCategory, PermissionTable};
use app::chart::{PATIENT_DATA_FUNCTIONS, PatientDataFunction, Target};
use app::identity::Role;
use app::ids::PatientId;
use app::records::ObservationValue;
use axum::http::StatusCode;
use diesel::QueryableByName;
use diesel::sql_types::{Bool, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use support::TestApp;
use support::matrix::{self, Consent, Relationship, World};
use support::personas::{Persona, call_as, call_json_as, session_for};

/// Endpoints of server functions that touch no patient's data: identity, account and user
/// administration, consent templates and coverage counts, clinic settings including the
/// care-protocol thresholds, and the unread message count.
const OTHER_FUNCTIONS: &[&str] = &[
    "identity/account",
    "identity/sign-in/begin",
    "identity/sign-in/finish",
    "identity/sign-out",
    "identity/invitation",
    "identity/enroll/begin",
    "identity/enroll/finish",
    "identity/passkeys",
    "identity/passkeys/begin",
    "identity/passkeys/finish",
    "identity/passkeys/rename",
    "identity/passkeys/remove",
    "identity/sessions",
    "identity/sessions/end",
    "identity/step-up/begin",
    "identity/step-up/finish",
    "admin/users",
    "admin/users/invite",
    "admin/users/roles",
    "admin/users/deactivate",
    "admin/users/end-sessions",
    "admin/security-alerts",
    "patients/invite",
    "users/recovery-link",
    "access/settings",
    "access/settings/update",
    "preferences/text-size",
    "admin/consent/templates",
    "admin/consent/templates/create",
    "admin/consent/templates/publish",
    "admin/consent/coverage",
    // Counts unread messages of the user's own threads without reading any; see
    // `app::messaging::unread_message_count`.
    "messages/unread",
    "protocols/settings",
    "protocols/settings/update",
    "chart/permissions",
];

#[tokio::test]
async fn every_server_function_is_classified() {
    let app = TestApp::new().await;
    let _ = app.get("/healthz").await;
    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_owned())
        .collect();
    assert!(registered.len() > 10, "server functions are not registered");

    let patient_data: Vec<&str> = PATIENT_DATA_FUNCTIONS.iter().map(|f| f.endpoint).collect();
    for path in &registered {
        assert!(
            patient_data.contains(&path.as_str()) || OTHER_FUNCTIONS.contains(&path.as_str()),
            "server function /api/{path} is in neither PATIENT_DATA_FUNCTIONS nor OTHER_FUNCTIONS; \
             add it to the registry so that the authorization matrix covers it"
        );
    }
    for endpoint in &patient_data {
        assert!(
            registered.iter().any(|path| path == endpoint),
            "registry names /api/{endpoint}, which is not a registered server function"
        );
    }
}

/// What a cell expects: allowed (and whether as emergency access), denied with the same 404
/// as for a missing record, or refused with 403 although the policy lets the user see the
/// record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Allowed { emergency: bool },
    Denied,
    Refused,
}

const CARE_TEAM_ROLES: [Role; 5] = [
    Role::PrimaryCareProvider,
    Role::Midwife,
    Role::LactationConsultant,
    Role::MentalHealthSpecialist,
    Role::CareCoordinator,
];

const EMERGENCY_ROLES: [Role; 4] = [
    Role::PrimaryCareProvider,
    Role::Midwife,
    Role::LactationConsultant,
    Role::MentalHealthSpecialist,
];

/// Staff who look a patient up by name for a break-glass request: the clinicians and the care
/// coordinator.
const FINDERS: [Role; 5] = CARE_TEAM_ROLES;

/// Staff who decide break-glass requests.
const DECIDERS: [Role; 2] = [Role::ComplianceOfficer, Role::Admin];

/// Staff who review break-glass grants and read compliance notifications.
const REVIEWERS: [Role; 1] = [Role::ComplianceOfficer];

/// Staff who manage care teams.
const MANAGERS: [Role; 2] = [Role::Admin, Role::CareCoordinator];

/// How the outcome of a function's cell is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// By the permission table, the relationship and the consent, as [`expected`] writes out.
    Policy,
    /// By role alone, for a patient of the user's clinic. Consent does not apply: care teams
    /// are managed, and break-glass is requested and overseen, whatever the patient consented
    /// to, because break-glass exists to bypass that scope.
    RoleInClinic(&'static [Role]),
    /// By role alone, for functions that name no patient. Neither the relationship nor consent
    /// applies; every cell still asserts the role's outcome.
    Role(&'static [Role]),
    /// By [`expected`], except that break-glass access allows nothing: only the patient and
    /// current members of her care team start message threads.
    ParticipantsOnly,
    /// By [`expected`] for each category that the role may read: the chart opens when any of
    /// them is allowed, and records the denied ones as one denial. A patient's own-record
    /// permissions do not open the clinician chart. The function names every category, and one
    /// cell per role, relationship and consent covers them all.
    AnySection,
}

/// The rule of each function that the access policy does not decide.
fn rule(endpoint: &str) -> Rule {
    match endpoint {
        // The lookup finds patients of the user's clinic only; the cell checks that.
        "chart/find" => Rule::Role(&FINDERS),
        "emergency/request" => Rule::RoleInClinic(&EMERGENCY_ROLES),
        "emergency/mine" => Rule::Role(&EMERGENCY_ROLES),
        "emergency/pending" => Rule::Role(&DECIDERS),
        "emergency/unreviewed" | "emergency/notifications" => Rule::Role(&REVIEWERS),
        "emergency/decide" => Rule::RoleInClinic(&DECIDERS),
        "emergency/review" => Rule::RoleInClinic(&REVIEWERS),
        "care-team/list" | "care-team/add" | "care-team/end" => Rule::RoleInClinic(&MANAGERS),
        "messages/start" => Rule::ParticipantsOnly,
        "chart/open" => Rule::AnySection,
        // The dashboard's lists show each patient only as far as the policy allows; the cell
        // checks the role, and server/tests/dashboard.rs checks what the lists contain.
        "dashboard/patients" | "dashboard/tasks" | "dashboard/alerts" => {
            Rule::Role(&CARE_TEAM_ROLES)
        }
        _ => Rule::Policy,
    }
}

/// Returns the outcome of a cell under a role rule.
fn expected_by_role(
    roles: &[Role],
    in_clinic: bool,
    role: Role,
    relationship: Relationship,
) -> Expected {
    let in_scope = !in_clinic || relationship != Relationship::OtherClinic;
    if roles.contains(&role) && in_scope {
        Expected::Allowed { emergency: false }
    } else {
        Expected::Denied
    }
}

/// Returns the outcome of opening the chart: allowed as soon as one category that the role may
/// read is allowed.
fn any_section(
    role: Role,
    relationship: Relationship,
    consent: Consent,
    table: &PermissionTable,
) -> Expected {
    if role == Role::Patient {
        return Expected::Denied;
    }
    DataCategory::ALL
        .into_iter()
        .filter(|category| table.allows(role, *category, Action::Read))
        .map(|category| expected(role, relationship, consent, category, Action::Read, table))
        .find(|outcome| matches!(outcome, Expected::Allowed { .. }))
        .unwrap_or(Expected::Denied)
}

/// The access rules, written out. A patient uses her own record as her role permits, but never
/// exports it to a third party. A care-team member needs an active membership, her role's
/// permission and a consent in force; an export also needs the data-sharing consent, which the
/// world keeps in the same state as the care consent. Break-glass opens the clinical categories
/// a clinician's role permits, for reading and writing only, as emergency access. Everything
/// else is denied.
fn expected(
    role: Role,
    relationship: Relationship,
    consent: Consent,
    category: DataCategory,
    action: Action,
    table: &PermissionTable,
) -> Expected {
    let permitted = table.allows(role, category, action);
    let allowed = match relationship {
        // Her own-record permission lets a patient export for herself, never to a third party:
        // sharing with a named party is done by her care team under her data-sharing consent.
        Relationship::OwnRecord => role == Role::Patient && permitted && action != Action::Export,
        Relationship::OnCareTeam => {
            CARE_TEAM_ROLES.contains(&role) && permitted && consent == Consent::Granted
        }
        Relationship::UnderBreakGlass => {
            let emergency = EMERGENCY_ROLES.contains(&role)
                && permitted
                && category.is_clinical()
                && matches!(action, Action::Read | Action::Write);
            if emergency {
                return Expected::Allowed { emergency: true };
            }
            false
        }
        Relationship::OffCareTeam
        | Relationship::OtherClinic
        | Relationship::ExpiredMembership
        | Relationship::AfterBreakGlassExpiry => false,
    };
    if allowed {
        Expected::Allowed { emergency: false }
    } else {
        Expected::Denied
    }
}

/// Applies the rules that refuse an action the policy allows: a patient may read her own
/// screening assignments but never assign herself a questionnaire.
fn refused(endpoint: &str, relationship: Relationship, expected: Expected) -> Expected {
    let own_assignment = endpoint == "screenings/assign" && relationship == Relationship::OwnRecord;
    if own_assignment && expected == (Expected::Allowed { emergency: false }) {
        Expected::Refused
    } else {
        expected
    }
}

/// One call of the matrix.
#[derive(Debug, Clone)]
struct Cell {
    function: PatientDataFunction,
    category: DataCategory,
    role: Role,
    relationship: Relationship,
    consent: Consent,
    expected: Expected,
}

#[derive(QueryableByName)]
struct AuditOutcome {
    #[diesel(sql_type = Text)]
    outcome: String,
    #[diesel(sql_type = Bool)]
    emergency: bool,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    patient_id: Option<uuid::Uuid>,
}

async fn audit_of_request(conn: &mut AsyncPgConnection, request_id: &str) -> Vec<AuditOutcome> {
    diesel::sql_query(
        "SELECT outcome, emergency, patient_id FROM data_access_audit WHERE request_id = $1",
    )
    .bind::<Text, _>(request_id)
    .load(conn)
    .await
    .unwrap()
}

/// Grants a consent as `persona` with a passkey assertion over its text, after registering a
/// software passkey for her. Anyone but a patient sends an unsigned request, because the policy
/// denies it before the signature is checked.
async fn grant_consent(world: &World, persona: &Persona, request_id: &str) -> (StatusCode, Value) {
    use support::browser::{origin, parse_options, soft_registration_options};
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;

    let router = &world.app.router;
    let version = world.care_version();
    let mut ceremony = ("unsigned".to_owned(), "{}".to_owned());
    if persona.roles.contains(&Role::Patient) {
        let cookie = &persona.cookie;
        let setup = format!("{request_id}-setup");
        let (_, body) = call_as(router, cookie, "identity/passkeys/begin", &[], &setup).await;
        let (registration, options) = soft_registration_options(&body);
        let mut passkey = SoftPasskey::new(true);
        let credential = passkey.do_registration(origin(), options).unwrap();
        let arguments = [
            ("ceremony_id", registration),
            ("credential", serde_json::to_string(&credential).unwrap()),
            ("passkey_name", "Matrix key".to_owned()),
        ];
        let (status, body) = call_as(
            router,
            cookie,
            "identity/passkeys/finish",
            &arguments,
            &setup,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let arguments = [("version_id", version.to_owned())];
        let (_, body) = call_as(router, cookie, "consent/sign/begin", &arguments, &setup).await;
        let (ceremony_id, options) = parse_options(&body);
        let assertion = passkey.do_authentication(origin(), options).unwrap();
        ceremony = (ceremony_id, serde_json::to_string(&assertion).unwrap());
    }
    let request = serde_json::json!({ "request": {
        "ceremony_id": ceremony.0,
        "credential": ceremony.1,
        "version_id": version,
        "categories": ["maternal"],
        "recipient_roles": ["midwife"],
        "named_parties": [],
        "purpose": "coordinating my postnatal care",
        "expires_on": null,
        "signer_name": "Synthetic Signer",
        "witness_name": null,
    }});
    call_json_as(
        router,
        &persona.cookie,
        "consent/grant",
        &request,
        request_id,
    )
    .await
}

/// Calls the function of one cell as `persona` and returns the status and body.
async fn call_cell(
    world: &World,
    cell: &Cell,
    persona: &Persona,
    patient: PatientId,
    request_id: &str,
) -> (StatusCode, Value) {
    let endpoint = cell.function.endpoint;
    // A fresh sign-in keeps the passkey step-up that these two need within its window however
    // long the matrix runs.
    let fresh = Persona {
        cookie: session_for(&world.app, persona.user, 0).await,
        ..persona.clone()
    };
    if endpoint == "consent/grant" {
        return grant_consent(world, &fresh, request_id).await;
    }
    let persona = if endpoint == "emergency/request" {
        &fresh
    } else {
        persona
    };
    let arguments = world
        .prepare(&cell.function, cell.category, patient, persona)
        .await;
    call_as(
        &world.app.router,
        &persona.cookie,
        endpoint,
        &arguments,
        request_id,
    )
    .await
}

/// Which patient the audit events of a cell must name: the cell's patient, none, or, for the
/// name lookup, any of the clinic's.
fn audited_patient(target: Target, patient: PatientId) -> Option<Option<uuid::Uuid>> {
    match target {
        Target::EmergencyQueue => Some(None),
        Target::Search | Target::Assigned => None,
        _ => Some(Some(patient.0)),
    }
}

/// Runs one cell and returns a description of what went wrong, if anything.
async fn run_cell(world: Arc<World>, cell: Cell, number: usize) -> Option<String> {
    let persona = world.persona(cell.relationship, cell.consent, cell.role);
    let patient = world.patient(cell.relationship, cell.consent, cell.role);
    let request_id = format!("cell-{number}");
    let (status, body) = call_cell(&world, &cell, persona, patient, &request_id).await;

    let mut conn = world.app.pool.get().await.unwrap();
    let events = audit_of_request(&mut conn, &request_id).await;
    let allowed_events: Vec<&AuditOutcome> = events
        .iter()
        .filter(|event| event.outcome == "allowed")
        .collect();
    let denied = events
        .iter()
        .filter(|event| event.outcome == "denied")
        .count();
    let on_patient = match audited_patient(cell.function.target, patient) {
        Some(expected) => events.iter().all(|event| event.patient_id == expected),
        None => true,
    };
    // The name lookup finds the patient exactly when she is of the user's clinic.
    let found = cell.function.target != Target::Search
        || status != StatusCode::OK
        || body
            .as_array()
            .is_some_and(|ids| ids.contains(&Value::from(patient.to_string())))
            == (cell.relationship != Relationship::OtherClinic);

    let ok = match cell.expected {
        Expected::Allowed { emergency } => {
            // An opened chart records the categories it was denied as one denial.
            let denials_allowed = usize::from(rule(cell.function.endpoint) == Rule::AnySection);
            status == StatusCode::OK
                && !allowed_events.is_empty()
                && denied <= denials_allowed
                && on_patient
                && found
                && allowed_events
                    .iter()
                    .all(|event| event.emergency == emergency)
        }
        Expected::Refused => {
            status == StatusCode::FORBIDDEN
                && allowed_events.is_empty()
                && denied == 1
                && on_patient
        }
        Expected::Denied => {
            status == StatusCode::NOT_FOUND
                && allowed_events.is_empty()
                && denied == 1
                && on_patient
                && body["message"] == "Not found, or you do not have access to it."
        }
    };
    (!ok).then(|| {
        format!(
            "{cell:?}: status {status}, {} allowed and {denied} denied events, body {body}",
            allowed_events.len()
        )
    })
}

fn cells(table: &PermissionTable) -> Vec<Cell> {
    let mut cells = Vec::new();
    for function in PATIENT_DATA_FUNCTIONS {
        for &category in function.categories {
            for role in Role::ALL {
                for relationship in Relationship::ALL {
                    if function.target == Target::OwnRecord
                        && relationship != Relationship::OwnRecord
                    {
                        continue;
                    }
                    for consent in Consent::ALL {
                        let expected = match rule(function.endpoint) {
                            Rule::Policy => expected(
                                role,
                                relationship,
                                consent,
                                category,
                                function.action,
                                table,
                            ),
                            Rule::RoleInClinic(roles) => {
                                expected_by_role(roles, true, role, relationship)
                            }
                            Rule::Role(roles) => expected_by_role(roles, false, role, relationship),
                            Rule::ParticipantsOnly
                                if relationship == Relationship::UnderBreakGlass =>
                            {
                                Expected::Denied
                            }
                            Rule::ParticipantsOnly => expected(
                                role,
                                relationship,
                                consent,
                                category,
                                function.action,
                                table,
                            ),
                            Rule::AnySection if category != function.categories[0] => continue,
                            Rule::AnySection => any_section(role, relationship, consent, table),
                        };
                        let expected = refused(function.endpoint, relationship, expected);
                        cells.push(Cell {
                            function: *function,
                            category,
                            role,
                            relationship,
                            consent,
                            expected,
                        });
                    }
                }
            }
        }
    }
    cells
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn authorization_matrix_has_no_failing_cell() {
    let world = Arc::new(World::build().await);
    let table = PermissionTable::default_for_clinic();
    let cells = cells(&table);
    let allowed = cells
        .iter()
        .filter(|cell| matches!(cell.expected, Expected::Allowed { .. }))
        .count();
    println!("{} cells, {allowed} expected allowed", cells.len());
    assert!(
        allowed > 50 && allowed < cells.len() / 2,
        "{allowed} allowed cells"
    );

    let limit = Arc::new(tokio::sync::Semaphore::new(6));
    let mut tasks = tokio::task::JoinSet::new();
    for (number, cell) in cells.into_iter().enumerate() {
        let world = world.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            run_cell(world, cell, number).await
        });
    }
    let mut failures = Vec::new();
    while let Some(result) = tasks.join_next().await {
        if let Some(failure) = result.unwrap() {
            failures.push(failure);
        }
    }
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} failing cells, the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Calls a by-id function as `persona` and returns the status and the request's audit events.
async fn by_id(
    world: &World,
    persona: &Persona,
    endpoint: &str,
    ids: &[String],
    request_id: &str,
) -> (StatusCode, Vec<AuditOutcome>) {
    let mut arguments: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(index, id)| (format!("ids[{index}]"), id.clone()))
        .collect();
    arguments.push(("purpose".to_owned(), "follow-up".to_owned()));
    let arguments: Vec<(&str, String)> = arguments
        .iter()
        .map(|(key, value)| (key.as_str(), value.clone()))
        .collect();
    let (status, _) = call_as(
        &world.app.router,
        &persona.cookie,
        endpoint,
        &arguments,
        request_id,
    )
    .await;
    let mut conn = world.app.pool.get().await.unwrap();
    (status, audit_of_request(&mut conn, request_id).await)
}

#[tokio::test]
async fn patient_cannot_read_another_patients_rows_by_id() {
    let world = World::build().await;
    let patient = &world.personas[&Role::Patient];
    let own = world.patient(Relationship::OwnRecord, Consent::Never, Role::Patient);
    let other = world.patient(Relationship::OffCareTeam, Consent::Granted, Role::Patient);

    let own_entry = world.entry_id(own, DataCategory::Maternal);
    let (status, events) = by_id(&world, patient, "chart/entries/by-id", &[own_entry], "own").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, "allowed");

    let other_entry = world.entry_id(other, DataCategory::Maternal);
    let (status, events) = by_id(
        &world,
        patient,
        "chart/entries/by-id",
        &[other_entry],
        "entry",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, "denied");
    assert_eq!(events[0].patient_id, Some(other.0));

    let other_observation = world.observation_id(other, DataCategory::Infant);
    let (status, events) = by_id(
        &world,
        patient,
        "chart/observations/by-id",
        &[other_observation],
        "observation",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, "denied");

    let missing = uuid::Uuid::new_v4().to_string();
    let (status, events) = by_id(
        &world,
        patient,
        "chart/entries/by-id",
        &[missing],
        "missing",
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a missing row looks like a forbidden one"
    );
    assert!(events.is_empty());
}

#[tokio::test]
async fn bulk_request_with_forbidden_id_rejected() {
    let world = World::build().await;
    let gp = &world.personas[&Role::PrimaryCareProvider];
    let allowed = world.patient(
        Relationship::OnCareTeam,
        Consent::Granted,
        Role::PrimaryCareProvider,
    );
    let forbidden = world.patient(
        Relationship::OffCareTeam,
        Consent::Granted,
        Role::PrimaryCareProvider,
    );
    let allowed_entry = world.entry_id(allowed, DataCategory::Maternal);
    let forbidden_entry = world.entry_id(forbidden, DataCategory::Maternal);

    let (status, events) = by_id(
        &world,
        gp,
        "chart/entries/by-id",
        std::slice::from_ref(&allowed_entry),
        "bulk-allowed",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the allowed id alone is readable");
    assert_eq!(events.len(), 1);

    let (status, events) = by_id(
        &world,
        gp,
        "chart/entries/by-id",
        &[allowed_entry, forbidden_entry],
        "bulk-mixed",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        events.iter().all(|event| event.outcome == "denied"),
        "nothing was read for the allowed id"
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].patient_id, Some(forbidden.0));
}

#[tokio::test]
async fn clinician_cannot_post_for_patient_outside_her_scope() {
    let world = World::build().await;
    let midwife = &world.personas[&Role::Midwife];
    let outside = world.patient(Relationship::OffCareTeam, Consent::Granted, Role::Midwife);
    let mut conn = world.app.pool.get().await.unwrap();
    let notes_before = matrix::count_rows(&mut conn, "clinical_notes", outside).await;
    let observations_before = matrix::count_rows(&mut conn, "observations", outside).await;

    let (status, body) = call_as(
        &world.app.router,
        &midwife.cookie,
        "chart/notes/add",
        &[
            ("patient_id", outside.to_string()),
            ("category", "maternal".to_owned()),
            ("body", "Visit notes (synthetic)".to_owned()),
            ("purpose", "postnatal visit".to_owned()),
        ],
        "post-note",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let weight = ObservationValue::weight(app::clinical::units::Entered::new(
        68.0,
        app::clinical::units::MassUnit::Kilograms,
    ))
    .unwrap();
    let (status, _) = call_as(
        &world.app.router,
        &midwife.cookie,
        "chart/observations/add",
        &[
            ("patient_id", outside.to_string()),
            ("value", serde_json::to_string(&weight).unwrap()),
            ("purpose", "postnatal visit".to_owned()),
        ],
        "post-observation",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    assert_eq!(
        matrix::count_rows(&mut conn, "clinical_notes", outside).await,
        notes_before
    );
    assert_eq!(
        matrix::count_rows(&mut conn, "observations", outside).await,
        observations_before
    );
    for request in ["post-note", "post-observation"] {
        let events = audit_of_request(&mut conn, request).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].outcome, "denied");
    }
}

#[tokio::test]
async fn unknown_patient_looks_like_forbidden_patient() {
    let world = World::build().await;
    let gp = &world.personas[&Role::PrimaryCareProvider];
    let forbidden = world.patient(
        Relationship::OffCareTeam,
        Consent::Granted,
        Role::PrimaryCareProvider,
    );
    let mut answers = Vec::new();
    for (patient, request) in [
        (forbidden, "forbidden"),
        (PatientId::new_random(), "unknown"),
    ] {
        let (status, body) = call_as(
            &world.app.router,
            &gp.cookie,
            "chart/summary",
            &[
                ("patient_id", patient.to_string()),
                ("purpose", "review".to_owned()),
            ],
            request,
        )
        .await;
        answers.push((status, body));
        let mut conn = world.app.pool.get().await.unwrap();
        let events = audit_of_request(&mut conn, request).await;
        assert_eq!(events.len(), 1, "the denial of {request} is audited");
        assert_eq!(events[0].outcome, "denied");
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, StatusCode::NOT_FOUND);
}
