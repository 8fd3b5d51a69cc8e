//! Wire types of the chart's sections: tasks and alerts, vital signs and screening scores in
//! readable form, infants with growth and feeding, and the appointment schedule.

use serde::{Deserialize, Serialize};

use crate::access::{Action, DataCategory};
use crate::clinical::screening::Instrument;
use crate::growth_chart::GrowthChartData;
use crate::identity::Role;
use crate::ids::UserId;
use crate::portal::{GrowthResult, InfantSummary};

/// The actions that the signed-in user's roles may perform on one data category in her clinic,
/// before the patient's care team, consent and break-glass grants are considered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryPermission {
    pub category: DataCategory,
    pub actions: Vec<Action>,
}

/// State of a care task on the wire; the server maps it to the stored task status. A task
/// moves from open to in progress and then to done, and can be cancelled until it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Open,
    InProgress,
    Done,
    Cancelled,
}

impl TaskState {
    pub fn label(self) -> &'static str {
        match self {
            TaskState::Open => "Open",
            TaskState::InProgress => "In progress",
            TaskState::Done => "Done",
            TaskState::Cancelled => "Cancelled",
        }
    }

    /// States a task in this state may move to.
    pub fn next(self) -> &'static [TaskState] {
        match self {
            TaskState::Open => &[TaskState::InProgress, TaskState::Cancelled],
            TaskState::InProgress => &[TaskState::Done, TaskState::Cancelled],
            TaskState::Done | TaskState::Cancelled => &[],
        }
    }
}

/// Purpose of an appointment on the wire; the server maps it to the stored appointment kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    PostnatalVisit,
    GpReview,
    LactationConsultation,
    MentalHealthSession,
    InfantCheck,
    CareCoordination,
}

impl VisitKind {
    pub const ALL: [VisitKind; 6] = [
        VisitKind::PostnatalVisit,
        VisitKind::GpReview,
        VisitKind::LactationConsultation,
        VisitKind::MentalHealthSession,
        VisitKind::InfantCheck,
        VisitKind::CareCoordination,
    ];

    /// Value of the kind in a form and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::PostnatalVisit => "postnatal_visit",
            VisitKind::GpReview => "gp_review",
            VisitKind::LactationConsultation => "lactation_consultation",
            VisitKind::MentalHealthSession => "mental_health_session",
            VisitKind::InfantCheck => "infant_check",
            VisitKind::CareCoordination => "care_coordination",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            VisitKind::PostnatalVisit => "Postnatal visit",
            VisitKind::GpReview => "GP review",
            VisitKind::LactationConsultation => "Feeding support",
            VisitKind::MentalHealthSession => "Wellbeing session",
            VisitKind::InfantCheck => "Baby check",
            VisitKind::CareCoordination => "Care planning",
        }
    }
}

/// One change in a task's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskChangeView {
    /// The staff member who made the change, or "Care protocol" for the change that created it.
    pub changed_by: String,
    pub status: TaskState,
    pub note: Option<String>,
    pub changed_at: String,
}

/// A care task with its history, oldest change first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: String,
    /// The task's work in words.
    pub summary: String,
    pub category: DataCategory,
    pub urgent: bool,
    pub owner_role: Role,
    pub owner_name: Option<String>,
    pub due_at: String,
    pub status: TaskState,
    pub history: Vec<TaskChangeView>,
}

/// An alert raised by a care protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    pub id: String,
    pub summary: String,
    pub category: DataCategory,
    pub urgent: bool,
    /// The threshold in force when it fired and the value that reached it.
    pub threshold: String,
    pub observed: String,
    pub raised_at: String,
    pub acknowledged_at: Option<String>,
}

/// Comparison of a vital sign with the clinic's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VitalFlag {
    Normal,
    /// Blood pressure at or above the raised threshold: needs follow-up.
    Raised,
    /// Blood pressure in the severe range: urgent.
    SevereRange,
    /// Temperature at or above the infection threshold: assess for infection.
    Fever,
}

impl VitalFlag {
    pub fn is_abnormal(self) -> bool {
        self != VitalFlag::Normal
    }

    /// Words shown next to the reading.
    pub fn label(self) -> &'static str {
        match self {
            VitalFlag::Normal => "Within range",
            VitalFlag::Raised => "Raised: follow up",
            VitalFlag::SevereRange => "Severe range: urgent",
            VitalFlag::Fever => "Fever: assess for infection",
        }
    }
}

/// A maternal vital sign in readable form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VitalReading {
    pub id: String,
    pub observed_at: String,
    /// The reading with its unit, such as "Blood pressure 142/91 mmHg".
    pub reading: String,
    /// The value as entered when its unit differs from the normalised one, such as "100.4 °F".
    pub entered: Option<String>,
    pub flag: VitalFlag,
}

/// A scored screening questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreeningScore {
    pub id: String,
    pub instrument: Instrument,
    pub observed_at: String,
    /// `None` when an item was left unanswered.
    pub total: Option<u8>,
    pub max_total: u8,
    /// The band of the total, such as "Moderate".
    pub band: Option<String>,
    /// Follow-up that one of the responses requires, such as a same-day safety follow-up.
    pub flags: Vec<String>,
}

/// Feeds and nappies of the last 24 hours, and the last feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedingSummary {
    pub feeds: u32,
    pub breastfeeds: u32,
    pub bottle_feeds: u32,
    pub wet_nappies: u32,
    pub dirty_nappies: u32,
    pub last_feed: Option<String>,
    pub last_feed_at: Option<String>,
}

/// One infant with her growth against the WHO standard and her feeding summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfantChartView {
    pub infant: InfantSummary,
    pub latest: Vec<GrowthResult>,
    pub charts: Vec<GrowthChartData>,
    pub feeding: FeedingSummary,
}

/// An appointment with the name of the clinician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledAppointment {
    pub id: String,
    pub starts_at: String,
    pub ends_at: String,
    pub kind: VisitKind,
    pub clinician_name: String,
    pub status: String,
}

/// A current member of the care team, whom an appointment can be booked with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMemberOption {
    pub user: UserId,
    pub name: String,
    pub role: Role,
}

/// The patient's appointments, earliest first, and her current care team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub appointments: Vec<ScheduledAppointment>,
    pub team: Vec<TeamMemberOption>,
}
