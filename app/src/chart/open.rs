//! Opening a patient's chart in one request: every section that the user's roles may read,
//! authorized together by the access policy and read in one transaction.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::access::{Action, DataCategory};
use crate::chart::{
    AlertView, CategoryPermission, EntryView, InfantChartView, NoteView, PatientSummary,
    ScheduleView, ScreeningScore, TaskView, VitalReading,
};
use crate::error::AppError;
use crate::ids::PatientId;

/// Categories whose notes the chart lists.
pub const NOTE_CATEGORIES: [DataCategory; 4] = [
    DataCategory::Maternal,
    DataCategory::Infant,
    DataCategory::MentalHealth,
    DataCategory::FamilyHistory,
];
/// Categories of care tasks.
pub const TASK_CATEGORIES: [DataCategory; 4] = [
    DataCategory::Maternal,
    DataCategory::Infant,
    DataCategory::MentalHealth,
    DataCategory::CareLogistics,
];
/// Categories of protocol alerts.
pub const ALERT_CATEGORIES: [DataCategory; 3] = [
    DataCategory::Maternal,
    DataCategory::Infant,
    DataCategory::MentalHealth,
];

/// One section of the chart as the user may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Section<T> {
    Shown(T),
    /// The user's roles may never read this category.
    NotForRole,
    /// The policy refused this patient's category now, with the message to show.
    Refused(String),
}

impl<T> Section<T> {
    pub fn shown(&self) -> Option<&T> {
        match self {
            Section::Shown(value) => Some(value),
            _ => None,
        }
    }

    pub fn is_shown(&self) -> bool {
        matches!(self, Section::Shown(_))
    }

    /// Converts a shown value with `convert`, and keeps a section that is not shown as it is.
    pub fn try_map<U, E>(self, convert: impl FnOnce(T) -> Result<U, E>) -> Result<Section<U>, E> {
        Ok(match self {
            Section::Shown(value) => Section::Shown(convert(value)?),
            Section::NotForRole => Section::NotForRole,
            Section::Refused(message) => Section::Refused(message),
        })
    }
}

/// The opened chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenedChart {
    pub patient_id: PatientId,
    pub purpose: String,
    pub permissions: Vec<CategoryPermission>,
    pub summary: Section<PatientSummary>,
    pub entries: Section<Vec<EntryView>>,
    pub vitals: Section<Vec<VitalReading>>,
    pub screenings: Section<Vec<ScreeningScore>>,
    pub infants: Section<Vec<InfantChartView>>,
    pub notes: Vec<(DataCategory, Section<Vec<NoteView>>)>,
    pub tasks: Vec<(DataCategory, Section<Vec<TaskView>>)>,
    pub alerts: Vec<(DataCategory, Section<Vec<AlertView>>)>,
    pub schedule: Section<ScheduleView>,
}

impl OpenedChart {
    /// Returns whether the user's roles may perform `action` on `category` at all.
    pub fn may(&self, category: DataCategory, action: Action) -> bool {
        allows(&self.permissions, category, action)
    }

    /// Returns whether any section shows data.
    pub fn shows_anything(&self) -> bool {
        self.summary.is_shown()
            || self.entries.is_shown()
            || self.vitals.is_shown()
            || self.screenings.is_shown()
            || self.infants.is_shown()
            || self.schedule.is_shown()
            || self.notes.iter().any(|(_, section)| section.is_shown())
            || self.tasks.iter().any(|(_, section)| section.is_shown())
            || self.alerts.iter().any(|(_, section)| section.is_shown())
    }
}

/// Returns whether `permissions` let the user perform `action` on `category`.
pub fn allows(permissions: &[CategoryPermission], category: DataCategory, action: Action) -> bool {
    permissions
        .iter()
        .any(|permission| permission.category == category && permission.actions.contains(&action))
}

/// Opens the chart of `patient_id` for `purpose`: the header, alerts, tasks, vitals,
/// screenings, infants, notes and schedule, each as far as the user's roles and the access
/// policy allow. The categories are authorized together, each read is audited with the
/// purpose in one transaction, and the denied categories are recorded as one denial. When
/// nothing of the record may be seen, the request fails with the same 404 as for a missing
/// record.
#[server(prefix = "/api", endpoint = "chart/open")]
pub async fn open_chart(patient_id: PatientId, purpose: String) -> Result<OpenedChart, AppError> {
    let (services, actor) = super::server::begin().await?;
    super::open_server::open(&services, &actor, patient_id, purpose).await
}
