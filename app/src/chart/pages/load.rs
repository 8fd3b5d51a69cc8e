//! Loading the chart: one call per section, each authorized by the access policy, and only for
//! the data categories that the user's roles may read.

use serde::{Deserialize, Serialize};

use crate::access::{Action, DataCategory};
use crate::chart::{
    AlertView, CategoryPermission, EntryView, InfantChartView, NoteView, PatientSummary,
    ScheduleView, ScreeningScore, TaskView, VitalReading, list_chart_alerts, list_chart_entries,
    list_chart_infants, list_chart_notes, list_chart_screenings, list_chart_tasks,
    list_chart_vitals, my_chart_permissions, read_chart_schedule, read_patient_summary,
};
use crate::error::{AppError, ErrorCode};
use crate::ids::PatientId;

/// Categories whose notes the chart lists.
const NOTE_CATEGORIES: [DataCategory; 4] = [
    DataCategory::Maternal,
    DataCategory::Infant,
    DataCategory::MentalHealth,
    DataCategory::FamilyHistory,
];
/// Categories of care tasks.
const TASK_CATEGORIES: [DataCategory; 4] = [
    DataCategory::Maternal,
    DataCategory::Infant,
    DataCategory::MentalHealth,
    DataCategory::CareLogistics,
];
/// Categories of protocol alerts.
const ALERT_CATEGORIES: [DataCategory; 3] = [
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

    fn is_shown(&self) -> bool {
        matches!(self, Section::Shown(_))
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

    /// Returns whether any section shows data, because a chart without one is refused whole.
    fn shows_anything(&self) -> bool {
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

fn allows(permissions: &[CategoryPermission], category: DataCategory, action: Action) -> bool {
    permissions
        .iter()
        .any(|permission| permission.category == category && permission.actions.contains(&action))
}

/// Runs `fetch` when the user's roles may read `category`. A refusal of the policy becomes a
/// refused section, and any other error fails the whole chart.
async fn section<T, F, Fu>(
    permissions: &[CategoryPermission],
    category: DataCategory,
    fetch: F,
) -> Result<Section<T>, AppError>
where
    F: FnOnce() -> Fu,
    Fu: Future<Output = Result<T, AppError>>,
{
    if !allows(permissions, category, Action::Read) {
        return Ok(Section::NotForRole);
    }
    match fetch().await {
        Ok(value) => Ok(Section::Shown(value)),
        Err(error) if error.code == ErrorCode::NotFound => Ok(Section::Refused(error.message)),
        Err(error) => Err(error),
    }
}

/// Loads the chart of the patient whose record id is `patient`, for `purpose`. Returns the
/// message to show when the id or purpose is invalid or nothing of the record may be seen.
pub async fn load_chart(patient: String, purpose: String) -> Result<OpenedChart, String> {
    let patient_id: PatientId = patient
        .trim()
        .parse()
        .map_err(|_| "Enter the patient's record id.".to_owned())?;
    let purpose = purpose.trim().to_owned();
    if purpose.is_empty() {
        return Err("Enter the purpose of access. It is recorded with every read.".to_owned());
    }
    let message = |error: AppError| error.message;
    let permissions = my_chart_permissions().await.map_err(message)?;
    let perms = permissions.as_slice();
    let id = patient_id;

    let summary = section(perms, DataCategory::Contact, || {
        read_patient_summary(id, purpose.clone())
    });
    let summary = summary.await.map_err(message)?;
    let entries = section(perms, DataCategory::Maternal, || {
        list_chart_entries(id, DataCategory::Maternal, purpose.clone())
    });
    let entries = entries.await.map_err(message)?;
    let vitals = section(perms, DataCategory::Maternal, || {
        list_chart_vitals(id, purpose.clone())
    });
    let vitals = vitals.await.map_err(message)?;
    let screenings = section(perms, DataCategory::MentalHealth, || {
        list_chart_screenings(id, purpose.clone())
    });
    let screenings = screenings.await.map_err(message)?;
    let infants = section(perms, DataCategory::Infant, || {
        list_chart_infants(id, purpose.clone())
    });
    let infants = infants.await.map_err(message)?;
    let schedule = section(perms, DataCategory::CareLogistics, || {
        read_chart_schedule(id, purpose.clone())
    });
    let schedule = schedule.await.map_err(message)?;

    let mut notes = Vec::new();
    for category in NOTE_CATEGORIES {
        let fetched = section(perms, category, || {
            list_chart_notes(id, category, purpose.clone())
        });
        notes.push((category, fetched.await.map_err(message)?));
    }
    let mut tasks = Vec::new();
    for category in TASK_CATEGORIES {
        let fetched = section(perms, category, || {
            list_chart_tasks(id, category, purpose.clone())
        });
        tasks.push((category, fetched.await.map_err(message)?));
    }
    let mut alerts = Vec::new();
    for category in ALERT_CATEGORIES {
        let fetched = section(perms, category, || {
            list_chart_alerts(id, category, purpose.clone())
        });
        alerts.push((category, fetched.await.map_err(message)?));
    }

    let chart = OpenedChart {
        patient_id,
        purpose: purpose.clone(),
        permissions,
        summary,
        entries,
        vitals,
        screenings,
        infants,
        notes,
        tasks,
        alerts,
        schedule,
    };
    if chart.shows_anything() {
        Ok(chart)
    } else {
        Err(AppError::not_found().message)
    }
}
