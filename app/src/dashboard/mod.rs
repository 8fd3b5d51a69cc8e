//! The clinician dashboard: the signed-in clinician's patients with their open alerts, unread
//! messages and open tasks, her own tasks and the alerts for her patients, kept current by the
//! care events that the server pushes to the page.
//!
//! Each server function lists only what the access policy allows for each patient (see
//! [`crate::access::guard::authorize_listed`]) and records one audit event per patient and data
//! category it shows.

mod api;
pub mod live;
pub mod pages;
#[cfg(feature = "ssr")]
mod queries;
#[cfg(feature = "ssr")]
mod server;

pub use api::*;

use serde::{Deserialize, Serialize};

use crate::access::DataCategory;
use crate::chart::TaskState;
use crate::events::Priority;
use crate::ids::PatientId;

/// Purpose recorded in the audit trail for what the dashboard reads.
pub const DASHBOARD_PURPOSE: &str = "care team dashboard";

/// Maximum length of a name search, in characters, as for a patient's stored name.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Filter of the patient list. A patient is listed only if she matches every flag that is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientListFilter {
    /// Only patients with an open alert for her.
    pub with_alerts: bool,
    /// Only patients with a message she has not read.
    pub with_unread: bool,
    /// Only patients with a task she owns that is still open.
    pub with_tasks: bool,
    /// Only patients whose name contains every word of this text. Empty matches any name.
    pub name: String,
}

/// One row of the patient list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardPatient {
    pub patient_id: PatientId,
    /// `None` when her role may not read the patient's contact details.
    pub full_name: Option<String>,
    /// Completed weeks since her youngest infant's birth, when known and readable.
    pub weeks_postpartum: Option<u32>,
    /// Unacknowledged alerts routed to the clinician's roles.
    pub open_alerts: u32,
    pub highest_alert: Option<Priority>,
    /// Open tasks that the clinician owns.
    pub open_tasks: u32,
    /// Messages to the clinician that she has not read.
    pub unread_messages: u32,
    /// Time of the newest care event for the clinician about this patient, in milliseconds
    /// since the Unix epoch, which orders the list.
    pub last_activity_ms: Option<i64>,
    /// The same time as an RFC 3339 instant, for display.
    pub last_activity_at: Option<String>,
}

impl DashboardPatient {
    /// Creates a row with nothing counted yet.
    pub fn new(patient_id: PatientId) -> Self {
        Self {
            patient_id,
            full_name: None,
            weeks_postpartum: None,
            open_alerts: 0,
            highest_alert: None,
            open_tasks: 0,
            unread_messages: 0,
            last_activity_ms: None,
            last_activity_at: None,
        }
    }

    /// Rank of the row's group: urgent alerts, other alerts, unread messages, the rest.
    fn rank(&self) -> u8 {
        if self.highest_alert == Some(Priority::Urgent) {
            0
        } else if self.open_alerts > 0 {
            1
        } else if self.unread_messages > 0 {
            2
        } else {
            3
        }
    }

    /// Tells whether the row matches every flag of `filter`. The server matches the name.
    pub fn passes(&self, filter: &PatientListFilter) -> bool {
        (!filter.with_alerts || self.open_alerts > 0)
            && (!filter.with_unread || self.unread_messages > 0)
            && (!filter.with_tasks || self.open_tasks > 0)
    }
}

/// Orders the patient list: patients with an urgent alert first, then those with other alerts,
/// then those with unread messages, then the rest. Within each group the most recent activity
/// comes first, and patients without activity come last.
pub fn sort_patients(patients: &mut [DashboardPatient]) {
    patients.sort_by(|a, b| {
        a.rank()
            .cmp(&b.rank())
            .then(b.last_activity_ms.cmp(&a.last_activity_ms))
            .then(a.patient_id.0.cmp(&b.patient_id.0))
    });
}

/// One of the clinician's open tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardTask {
    pub id: String,
    pub patient_id: PatientId,
    pub patient_name: Option<String>,
    /// Action to take, such as "Follow up raised blood pressure".
    pub summary: String,
    pub priority: Priority,
    /// Category of the observation behind the task, for which a change is authorized.
    pub category: DataCategory,
    /// Open or in progress.
    pub state: TaskState,
    /// RFC 3339 instant.
    pub due_at: String,
    pub overdue: bool,
}

/// An alert for the clinician's roles that nobody has acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardAlert {
    pub id: String,
    pub patient_id: PatientId,
    pub patient_name: Option<String>,
    /// Reason for the alert, such as "Urgent: blood pressure in the severe range".
    pub summary: String,
    /// Category of the observation behind the alert, for which acknowledging is authorized.
    pub category: DataCategory,
    pub priority: Priority,
    /// RFC 3339 instant.
    pub raised_at: String,
}

/// Returns the chart's address for `patient`, opened for the dashboard's purpose.
pub fn chart_href(patient: PatientId) -> String {
    format!("/clinician/chart?patient={patient}&purpose=care%20team%20dashboard")
}

/// Returns the address of the clinician's messages with `patient`.
pub fn messages_href(patient: PatientId) -> String {
    format!("/clinician/messages?patient={patient}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(number: u128, alerts: u32, highest: Option<Priority>, unread: u32) -> DashboardPatient {
        DashboardPatient {
            open_alerts: alerts,
            highest_alert: highest,
            unread_messages: unread,
            ..DashboardPatient::new(PatientId(uuid::Uuid::from_u128(number)))
        }
    }

    fn order(rows: &[DashboardPatient]) -> Vec<u128> {
        rows.iter().map(|row| row.patient_id.0.as_u128()).collect()
    }

    #[test]
    fn urgent_alerts_then_alerts_then_unread_then_rest() {
        let mut rows = vec![
            row(1, 0, None, 0),
            row(2, 0, None, 3),
            row(3, 1, Some(Priority::Attention), 0),
            row(4, 2, Some(Priority::Urgent), 0),
        ];
        sort_patients(&mut rows);
        assert_eq!(order(&rows), vec![4, 3, 2, 1]);
    }

    #[test]
    fn newest_activity_first_within_a_group() {
        let mut rows = vec![row(1, 0, None, 0), row(2, 0, None, 0), row(3, 0, None, 0)];
        rows[0].last_activity_ms = Some(10);
        rows[1].last_activity_ms = Some(30);
        sort_patients(&mut rows);
        assert_eq!(order(&rows), vec![2, 1, 3]);
    }

    #[test]
    fn flags_filter_rows() {
        let quiet = row(1, 0, None, 0);
        let unread = row(2, 0, None, 1);
        let filter = PatientListFilter {
            with_unread: true,
            ..PatientListFilter::default()
        };
        assert!(!quiet.passes(&filter));
        assert!(unread.passes(&filter));
        assert!(quiet.passes(&PatientListFilter::default()));
        let tasks = PatientListFilter {
            with_tasks: true,
            ..PatientListFilter::default()
        };
        assert!(!unread.passes(&tasks));
    }

    #[test]
    fn chart_link_names_patient_and_purpose() {
        let patient = PatientId(uuid::Uuid::from_u128(7));
        let href = chart_href(patient);
        assert!(href.starts_with("/clinician/chart?patient=00000000-"));
        assert!(href.ends_with("&purpose=care%20team%20dashboard"));
    }
}
