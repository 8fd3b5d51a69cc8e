//! The patient chart: server functions that read and write a patient's record for the
//! clinician chart and the patient portal, their wire types, the registry of every server
//! function that touches patient data, and the pages.
//!
//! Each server function here calls [`crate::access::guard::authorize`] before it touches the
//! record, and the authorization matrix test in `server/tests/authorization.rs` iterates
//! [`PATIENT_DATA_FUNCTIONS`].

mod api;
mod care;
#[cfg(feature = "ssr")]
mod care_server;
pub mod open;
#[cfg(feature = "ssr")]
mod open_server;
pub mod pages;
mod readings;
#[cfg(feature = "ssr")]
mod readings_server;
mod schedule;
#[cfg(feature = "ssr")]
mod schedule_server;
#[cfg(feature = "ssr")]
mod server;
mod views;

pub use api::*;
pub use care::*;
pub use readings::*;
pub use schedule::*;
pub use views::*;

use serde::{Deserialize, Serialize};

use crate::access::{Action, DataCategory};
use crate::ids::{InfantId, PatientId, UserId};

/// A patient's name and date of birth, as the chart header shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientSummary {
    pub patient_id: PatientId,
    pub full_name: String,
    /// ISO 8601 date.
    pub date_of_birth: String,
}

/// A clinical entry with its structured content as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub id: String,
    pub patient_id: PatientId,
    pub category: DataCategory,
    pub infant_id: Option<InfantId>,
    pub entry_type: String,
    pub recorded_at: String,
    pub author: UserId,
    pub payload: String,
}

/// An observation with its typed value as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationView {
    pub id: String,
    pub patient_id: PatientId,
    pub infant_id: Option<InfantId>,
    pub kind: String,
    pub observed_at: String,
    pub author: UserId,
    pub value: String,
}

/// A clinical note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteView {
    pub id: String,
    pub category: DataCategory,
    pub written_at: String,
    pub author: UserId,
    pub body: String,
}

/// An appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentView {
    pub id: String,
    pub clinician: UserId,
    pub starts_at: String,
    pub ends_at: String,
    pub kind: String,
    pub status: String,
}

/// Whose record a registered server function reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The patient named by a `patient_id` argument.
    Patient,
    /// The patients owning the rows named by an `ids` argument.
    Rows,
    /// The signed-in patient's own record.
    OwnRecord,
    /// The patient of the export named by an `export_id` argument.
    Export,
    /// The patients of the user's clinic whose name matches a `name` argument.
    Search,
    /// The patient of the break-glass request named by an `id` argument.
    EmergencyRequest,
    /// The break-glass requests of the user's clinic; no argument names a patient.
    EmergencyQueue,
    /// The patient of the message thread named by a `thread_id` argument.
    Thread,
    /// The patients on whose care teams the user serves now. No argument names a patient, and
    /// each patient is listed only as far as the policy allows.
    Assigned,
}

/// A server function that reads or writes patient data: its endpoint under `/api/`, the data
/// categories it can be asked for, its action and whose record it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatientDataFunction {
    pub endpoint: &'static str,
    pub categories: &'static [DataCategory],
    pub action: Action,
    pub target: Target,
}

const CLINICAL: &[DataCategory] = &[
    DataCategory::Maternal,
    DataCategory::Infant,
    DataCategory::MentalHealth,
    DataCategory::FamilyHistory,
];
const OBSERVED: &[DataCategory] = &[
    DataCategory::Maternal,
    DataCategory::Infant,
    DataCategory::MentalHealth,
];

const MATERNAL: &[DataCategory] = &[DataCategory::Maternal];
const INFANT: &[DataCategory] = &[DataCategory::Infant];
const MENTAL_HEALTH: &[DataCategory] = &[DataCategory::MentalHealth];
const EXPORTED: &[DataCategory] = crate::exports::EXPORTABLE;

const fn function(
    endpoint: &'static str,
    categories: &'static [DataCategory],
    action: Action,
    target: Target,
) -> PatientDataFunction {
    PatientDataFunction {
        endpoint,
        categories,
        action,
        target,
    }
}

const LOGISTICS: &[DataCategory] = &[DataCategory::CareLogistics];
const CONTACT: &[DataCategory] = &[DataCategory::Contact];
/// Categories of care tasks: those of the observations that protocols fire on, and care
/// logistics for tasks without clinical content.
const TASKED: &[DataCategory] = &[
    DataCategory::Maternal,
    DataCategory::Infant,
    DataCategory::MentalHealth,
    DataCategory::CareLogistics,
];

/// Every server function that touches patient data. A test fails when a registered server
/// function is neither here nor on its list of functions that touch none.
///
/// Most of them are decided by the access policy. Break-glass requests and their oversight,
/// care-team management and the name lookup are allowed by role and by the patient's clinic
/// instead (see [`crate::access::gate`]). They are listed under care logistics, except the name
/// lookup under contact details, and audited alike. The dashboard's lists are allowed by role
/// and then show each patient only as far as the policy allows. They are listed under care
/// logistics, although the patient list also reads names and infants' birth dates where the
/// policy allows them.
pub const PATIENT_DATA_FUNCTIONS: &[PatientDataFunction] = &[
    function(
        "chart/summary",
        &[DataCategory::Contact],
        Action::Read,
        Target::Patient,
    ),
    function("chart/entries", CLINICAL, Action::Read, Target::Patient),
    function(
        "chart/entries/add",
        CLINICAL,
        Action::Write,
        Target::Patient,
    ),
    function("chart/entries/by-id", CLINICAL, Action::Read, Target::Rows),
    function(
        "chart/observations",
        OBSERVED,
        Action::Read,
        Target::Patient,
    ),
    function(
        "chart/observations/add",
        OBSERVED,
        Action::Write,
        Target::Patient,
    ),
    function(
        "chart/observations/by-id",
        OBSERVED,
        Action::Read,
        Target::Rows,
    ),
    function("chart/notes", CLINICAL, Action::Read, Target::Patient),
    function("chart/notes/add", CLINICAL, Action::Write, Target::Patient),
    function(
        "chart/appointments",
        &[DataCategory::CareLogistics],
        Action::Read,
        Target::Patient,
    ),
    function(
        "portal/summary",
        &[DataCategory::Contact],
        Action::Read,
        Target::OwnRecord,
    ),
    function(
        "portal/access-history",
        &[DataCategory::CareLogistics],
        Action::Read,
        Target::OwnRecord,
    ),
    function(
        "consent/texts",
        &[DataCategory::Contact],
        Action::Read,
        Target::OwnRecord,
    ),
    function(
        "consent/mine",
        &[DataCategory::Contact],
        Action::Read,
        Target::OwnRecord,
    ),
    function(
        "consent/verify",
        &[DataCategory::Contact],
        Action::Read,
        Target::OwnRecord,
    ),
    function(
        "portal/home",
        &[
            DataCategory::CareLogistics,
            DataCategory::MentalHealth,
            DataCategory::Infant,
        ],
        Action::Read,
        Target::OwnRecord,
    ),
    function("portal/infants", INFANT, Action::Read, Target::OwnRecord),
    function(
        "portal/infants/add",
        INFANT,
        Action::Write,
        Target::OwnRecord,
    ),
    function(
        "portal/screenings",
        MENTAL_HEALTH,
        Action::Read,
        Target::OwnRecord,
    ),
    function(
        "portal/check-in",
        MENTAL_HEALTH,
        Action::Write,
        Target::OwnRecord,
    ),
    function(
        "screenings/assign",
        MENTAL_HEALTH,
        Action::Write,
        Target::Patient,
    ),
    function("portal/vitals", MATERNAL, Action::Read, Target::OwnRecord),
    function(
        "portal/vitals/blood-pressure",
        MATERNAL,
        Action::Write,
        Target::OwnRecord,
    ),
    function(
        "portal/vitals/temperature",
        MATERNAL,
        Action::Write,
        Target::OwnRecord,
    ),
    function("portal/feeding", INFANT, Action::Read, Target::OwnRecord),
    function(
        "portal/feeding/add",
        INFANT,
        Action::Write,
        Target::OwnRecord,
    ),
    function("portal/growth", INFANT, Action::Read, Target::OwnRecord),
    function(
        "portal/growth/add",
        INFANT,
        Action::Write,
        Target::OwnRecord,
    ),
    function("exports/request", EXPORTED, Action::Export, Target::Patient),
    function(
        "exports/list",
        &[DataCategory::CareLogistics],
        Action::Read,
        Target::Patient,
    ),
    function("exports/download", EXPORTED, Action::Export, Target::Export),
    function(
        "consent/sign/begin",
        CONTACT,
        Action::Write,
        Target::OwnRecord,
    ),
    function("consent/grant", CONTACT, Action::Write, Target::OwnRecord),
    function("consent/revoke", CONTACT, Action::Write, Target::OwnRecord),
    function("chart/find", CONTACT, Action::Read, Target::Search),
    function(
        "emergency/request",
        LOGISTICS,
        Action::Write,
        Target::Patient,
    ),
    function(
        "emergency/mine",
        LOGISTICS,
        Action::Read,
        Target::EmergencyQueue,
    ),
    function(
        "emergency/pending",
        LOGISTICS,
        Action::Read,
        Target::EmergencyQueue,
    ),
    function(
        "emergency/unreviewed",
        LOGISTICS,
        Action::Read,
        Target::EmergencyQueue,
    ),
    function(
        "emergency/notifications",
        LOGISTICS,
        Action::Read,
        Target::EmergencyQueue,
    ),
    function(
        "emergency/decide",
        LOGISTICS,
        Action::Write,
        Target::EmergencyRequest,
    ),
    function(
        "emergency/review",
        LOGISTICS,
        Action::Write,
        Target::EmergencyRequest,
    ),
    function("care-team/list", LOGISTICS, Action::Read, Target::Patient),
    function("care-team/add", LOGISTICS, Action::Write, Target::Patient),
    function("care-team/end", LOGISTICS, Action::Write, Target::Patient),
    function("messages/threads", CLINICAL, Action::Read, Target::Patient),
    function("messages/thread", CLINICAL, Action::Read, Target::Thread),
    function("messages/send", CLINICAL, Action::Write, Target::Thread),
    function("messages/start", CLINICAL, Action::Write, Target::Patient),
    function(
        "messages/contacts",
        LOGISTICS,
        Action::Read,
        Target::Patient,
    ),
    function(
        "dashboard/patients",
        LOGISTICS,
        Action::Read,
        Target::Assigned,
    ),
    function("dashboard/tasks", LOGISTICS, Action::Read, Target::Assigned),
    function(
        "dashboard/alerts",
        LOGISTICS,
        Action::Read,
        Target::Assigned,
    ),
    function("chart/tasks", TASKED, Action::Read, Target::Patient),
    function("chart/tasks/update", TASKED, Action::Write, Target::Patient),
    function("chart/alerts", OBSERVED, Action::Read, Target::Patient),
    function(
        "chart/alerts/acknowledge",
        OBSERVED,
        Action::Write,
        Target::Patient,
    ),
    function("chart/schedule", LOGISTICS, Action::Read, Target::Patient),
    function(
        "chart/appointments/add",
        LOGISTICS,
        Action::Write,
        Target::Patient,
    ),
    function("chart/vitals", MATERNAL, Action::Read, Target::Patient),
    function(
        "chart/vitals/blood-pressure",
        MATERNAL,
        Action::Write,
        Target::Patient,
    ),
    function(
        "chart/vitals/temperature",
        MATERNAL,
        Action::Write,
        Target::Patient,
    ),
    function(
        "chart/screenings",
        MENTAL_HEALTH,
        Action::Read,
        Target::Patient,
    ),
    function("chart/infants", INFANT, Action::Read, Target::Patient),
    function(
        "chart/open",
        &DataCategory::ALL,
        Action::Read,
        Target::Patient,
    ),
];
