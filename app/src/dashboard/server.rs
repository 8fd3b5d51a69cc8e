//! Server side of the dashboard: who may use it, which of her patients the policy lets her see,
//! the patients' names, and the audit events of what each list shows.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::queries::{OpenAlert, OpenTask};
use super::{DASHBOARD_PURPOSE, DashboardAlert, DashboardTask};
use crate::access::{Action, Actor, Authorization, DataCategory, gate, guard};
use crate::audit::record_accesses;
use crate::chart::TaskState;
use crate::error::AppError;
use crate::events::Priority;
use crate::identity::Role;
use crate::identity::server::auth;
use crate::identity::support::timestamp;
use crate::ids::PatientId;
use crate::protocols::{Rule, TaskStatus};
use crate::records::{self, AccessContext, ListedIdentity};
use crate::services::Services;

/// Audit elements of the patient list's care-logistics read of each patient shown.
pub const PATIENT_LIST_ELEMENTS: [&str; 4] = [
    "care_alert.open_count",
    "care_task.open_count",
    "message.unread_count",
    "care_event.last_activity",
];

/// Roles that have patients assigned on care teams and so a dashboard.
pub const DASHBOARD_ROLES: [Role; 5] = [
    Role::PrimaryCareProvider,
    Role::Midwife,
    Role::LactationConsultant,
    Role::MentalHealthSpecialist,
    Role::CareCoordinator,
];

/// Returns the services and the signed-in actor of the request, or 401.
pub async fn begin() -> Result<(Arc<Services>, Actor), AppError> {
    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    Ok((services, Actor::from_signed_in(&user)))
}

/// Returns the actor's context for the record store's functions that take no authorization,
/// such as the unread message counts.
pub fn access_context(actor: &Actor) -> AccessContext {
    AccessContext {
        actor: actor.user,
        actor_roles: actor.roles.clone(),
        clinic_id: actor.clinic,
        purpose: DASHBOARD_PURPOSE.to_owned(),
        emergency: false,
        client: actor.client.clone(),
    }
}

/// Fails, with an audited denial, unless the actor has a care-team role.
pub async fn require_care_team_role(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
) -> Result<(), AppError> {
    gate::require_roles(
        conn,
        actor,
        &DASHBOARD_ROLES,
        None,
        Action::Read,
        DASHBOARD_PURPOSE,
    )
    .await
}

/// The patients of the signed-in clinician that the policy lets the dashboard show, with what
/// it may read of each.
pub struct Visible {
    /// Care-logistics read authorizations: alerts, tasks, message counts and activity. A patient
    /// without one is not shown.
    pub logistics: Vec<Authorization>,
    /// Contact read authorizations, for names.
    pub contact: Vec<Authorization>,
    /// Infant read authorizations, for the weeks since birth.
    pub infant: Vec<Authorization>,
}

impl Visible {
    pub fn patients(&self) -> Vec<PatientId> {
        self.logistics.iter().map(Authorization::patient).collect()
    }

    /// Keeps only the authorizations of `patients`.
    pub fn retain(&mut self, patients: &HashSet<PatientId>) {
        for list in [&mut self.logistics, &mut self.contact, &mut self.infant] {
            list.retain(|authorization| patients.contains(&authorization.patient()));
        }
    }
}

/// Authorizes the dashboard's reads of the patients on whose care team the actor serves now.
/// The caller passes the `categories` beyond care logistics that its list shows.
pub async fn visible_patients(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    categories: &[DataCategory],
) -> Result<Visible, AppError> {
    let assigned = records::assigned_patients(conn, actor.clinic, actor.user, Utc::now()).await?;
    let patients: Vec<PatientId> = assigned
        .iter()
        .map(|assignment| assignment.patient_id)
        .collect();
    let mut asked = vec![DataCategory::CareLogistics];
    asked.extend_from_slice(categories);
    let authorizations = guard::authorize_listed(
        conn,
        actor,
        &patients,
        &asked,
        Action::Read,
        DASHBOARD_PURPOSE,
    )
    .await?;

    let mut visible = Visible {
        logistics: Vec::new(),
        contact: Vec::new(),
        infant: Vec::new(),
    };
    for authorization in authorizations {
        match authorization.category() {
            DataCategory::CareLogistics => visible.logistics.push(authorization),
            DataCategory::Contact => visible.contact.push(authorization),
            DataCategory::Infant => visible.infant.push(authorization),
            _ => {}
        }
    }
    let shown: HashSet<PatientId> = visible.patients().into_iter().collect();
    visible.retain(&shown);
    Ok(visible)
}

/// Decrypts the names (and, with `births`, the infants' birth dates) of the patients left in
/// `visible`, and records those reads.
pub async fn identities(
    conn: &mut AsyncPgConnection,
    services: &Services,
    visible: &Visible,
    births: bool,
    searched: bool,
) -> Result<HashMap<PatientId, ListedIdentity>, AppError> {
    let names: Vec<&Authorization> = visible.contact.iter().collect();
    let infants: Vec<&Authorization> = if births {
        visible.infant.iter().collect()
    } else {
        Vec::new()
    };
    let listed =
        records::read_listed_identities(conn, services.keys.as_ref(), &names, &infants, searched)
            .await?;
    Ok(listed)
}

/// Records one care-logistics read event, naming `elements`, for each patient in `shown`, or a
/// search event without a patient when the list is empty, so that looking at an empty list
/// leaves a trace too. One transaction and one append for the whole list.
pub async fn record_list(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    visible: &Visible,
    shown: &HashSet<PatientId>,
    elements: &[&str],
) -> Result<(), AppError> {
    let elements: Vec<String> = elements
        .iter()
        .map(|element| (*element).to_owned())
        .collect();
    let events: Vec<_> = visible
        .logistics
        .iter()
        .filter(|authorization| shown.contains(&authorization.patient()))
        .map(|authorization| authorization.allowed_event(elements.clone()))
        .collect();
    let list_element = elements.first().cloned().unwrap_or_default();
    conn.transaction::<_, AppError, _>(async move |conn| {
        if events.is_empty() {
            return gate::record_use(
                conn,
                actor,
                None,
                Action::Read,
                DASHBOARD_PURPOSE,
                &list_element,
            )
            .await;
        }
        record_accesses(conn, events).await.map_err(|error| {
            tracing::error!(%error, "recording the dashboard's reads failed");
            AppError::internal()
        })?;
        Ok(())
    })
    .await
}

/// Trims a name search and rejects one that is too long or has nothing to match.
pub fn search_text(name: &str) -> Result<Option<String>, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > super::MAX_SEARCH_CHARS {
        return Err(AppError::invalid_input(format!(
            "The name search can be at most {} characters.",
            super::MAX_SEARCH_CHARS
        )));
    }
    if records::names::name_tokens(name).is_empty() {
        return Err(AppError::invalid_input(
            "Enter at least one letter or digit of the patient's name.",
        ));
    }
    Ok(Some(name.to_owned()))
}

fn name_of(names: &HashMap<PatientId, ListedIdentity>, patient: PatientId) -> Option<String> {
    names
        .get(&patient)
        .and_then(|identity| identity.full_name.clone())
}

/// Returns the sentence that describes a stored rule name.
fn rule_summary(name: &str) -> String {
    Rule::parse(name).map_or_else(|| name.replace('_', " "), |rule| rule.summary().to_owned())
}

/// Reads the category stored with an alert or a task. The table's check allows only known
/// names, so an unknown one is a fault of the database.
fn stored_category(name: &str) -> Result<DataCategory, AppError> {
    DataCategory::parse(name).ok_or_else(|| {
        tracing::error!(
            category = name,
            "a care alert or task has an unknown category"
        );
        AppError::internal()
    })
}

/// Converts a task row for the wire.
pub fn task_view(
    task: OpenTask,
    names: &HashMap<PatientId, ListedIdentity>,
    now: DateTime<Utc>,
) -> Result<DashboardTask, AppError> {
    let patient_id = PatientId(task.patient_id);
    let state = match TaskStatus::parse(&task.status) {
        Some(TaskStatus::InProgress) => TaskState::InProgress,
        _ => TaskState::Open,
    };
    Ok(DashboardTask {
        id: task.id.to_string(),
        patient_id,
        patient_name: name_of(names, patient_id),
        summary: rule_summary(&task.kind),
        priority: Priority::from_level(task.priority).unwrap_or(Priority::Routine),
        category: stored_category(&task.category)?,
        state,
        due_at: timestamp(task.due_at),
        overdue: task.due_at < now,
    })
}

/// Converts an alert row for the wire.
pub fn alert_view(
    alert: OpenAlert,
    names: &HashMap<PatientId, ListedIdentity>,
) -> Result<DashboardAlert, AppError> {
    let patient_id = PatientId(alert.patient_id);
    Ok(DashboardAlert {
        id: alert.id.to_string(),
        patient_id,
        patient_name: name_of(names, patient_id),
        summary: rule_summary(&alert.rule),
        category: stored_category(&alert.category)?,
        priority: Priority::from_level(alert.priority).unwrap_or(Priority::Urgent),
        raised_at: timestamp(alert.raised_at),
    })
}
