//! The dashboard's server functions. Each one checks the caller's role, then requests a decision
//! of the access policy for each of her patients before it reads anything.

use leptos::prelude::*;

use super::{DashboardAlert, DashboardPatient, DashboardTask, PatientListFilter};
use crate::error::AppError;

/// Lists the signed-in clinician's current patients with their open alerts, her open tasks,
/// her unread messages and the last activity, filtered by `filter` and ordered by
/// [`super::sort_patients`]. A patient appears only when the policy lets her read the patient's
/// care logistics. Her name and weeks since birth appear only when the policy allows those too.
#[server(prefix = "/api", endpoint = "dashboard/patients")]
pub async fn list_dashboard_patients(
    filter: PatientListFilter,
) -> Result<Vec<DashboardPatient>, AppError> {
    use std::collections::{HashMap, HashSet};

    use super::{queries, server};
    use crate::access::DataCategory;
    use crate::events::Priority;
    use crate::ids::PatientId;

    let (services, actor) = server::begin().await?;
    let name = server::search_text(&filter.name)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::require_care_team_role(&mut conn, &actor).await?;

    let categories = [DataCategory::Contact, DataCategory::Infant];
    let mut visible = server::visible_patients(&mut conn, &actor, &categories).await?;
    if let Some(name) = &name {
        let named: Vec<PatientId> = visible.contact.iter().map(|auth| auth.patient()).collect();
        let found = crate::records::patients_named(
            &mut conn,
            &services.blind_index,
            actor.clinic,
            &named,
            name,
        )
        .await?;
        visible.retain(&found.into_iter().collect());
    }

    let patients = visible.patients();
    let alerts = queries::alert_counts(&mut conn, actor.clinic, &patients, actor.user).await?;
    let tasks = queries::open_tasks(&mut conn, actor.clinic, actor.user).await?;
    let activity = queries::last_activity(&mut conn, actor.clinic, &patients, actor.user).await?;
    let unread = crate::records::unread_counts(&mut conn, &server::access_context(&actor)).await?;

    let mut rows: HashMap<PatientId, DashboardPatient> = patients
        .iter()
        .map(|&patient_id| (patient_id, DashboardPatient::new(patient_id)))
        .collect();
    for count in alerts {
        if let Some(row) = rows.get_mut(&PatientId(count.patient_id)) {
            row.open_alerts = u32::try_from(count.open_alerts).unwrap_or(u32::MAX);
            row.highest_alert = Priority::from_level(count.highest);
        }
    }
    for task in tasks {
        if let Some(row) = rows.get_mut(&PatientId(task.patient_id)) {
            row.open_tasks += 1;
        }
    }
    for latest in activity {
        if let Some(row) = rows.get_mut(&PatientId(latest.patient_id)) {
            row.last_activity_ms = latest.at.map(|at| at.timestamp_millis());
            row.last_activity_at = latest.at.map(crate::identity::support::timestamp);
        }
    }
    for thread in unread {
        if let Some(row) = rows.get_mut(&thread.patient_id) {
            row.unread_messages += u32::try_from(thread.unread).unwrap_or(u32::MAX);
        }
    }
    rows.retain(|_, row| row.passes(&filter));

    let shown: HashSet<PatientId> = rows.keys().copied().collect();
    visible.retain(&shown);
    let identities =
        server::identities(&mut conn, &services, &visible, true, name.is_some()).await?;
    server::record_list(
        &mut conn,
        &actor,
        &visible,
        &shown,
        &server::PATIENT_LIST_ELEMENTS,
    )
    .await?;

    let today = chrono::Utc::now().date_naive();
    let mut rows: Vec<DashboardPatient> = rows.into_values().collect();
    for row in &mut rows {
        if let Some(identity) = identities.get(&row.patient_id) {
            row.full_name = identity.full_name.clone();
            row.weeks_postpartum = identity
                .youngest_infant_birth_date
                .and_then(|born| u32::try_from((today - born).num_days() / 7).ok());
        }
    }
    super::sort_patients(&mut rows);
    Ok(rows)
}

/// Lists the open tasks that the signed-in clinician owns, for the patients the policy lets
/// her see, overdue and earliest due first.
#[server(prefix = "/api", endpoint = "dashboard/tasks")]
pub async fn list_dashboard_tasks() -> Result<Vec<DashboardTask>, AppError> {
    use std::collections::HashSet;

    use super::{queries, server};
    use crate::access::DataCategory;
    use crate::ids::PatientId;

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::require_care_team_role(&mut conn, &actor).await?;

    let mut visible = server::visible_patients(&mut conn, &actor, &[DataCategory::Contact]).await?;
    let allowed: HashSet<PatientId> = visible.patients().into_iter().collect();
    let tasks: Vec<_> = queries::open_tasks(&mut conn, actor.clinic, actor.user)
        .await?
        .into_iter()
        .filter(|task| allowed.contains(&PatientId(task.patient_id)))
        .collect();

    let shown: HashSet<PatientId> = tasks
        .iter()
        .map(|task| PatientId(task.patient_id))
        .collect();
    visible.retain(&shown);
    let names = server::identities(&mut conn, &services, &visible, false, false).await?;
    server::record_list(&mut conn, &actor, &visible, &shown, &["care_task.summary"]).await?;

    let now = chrono::Utc::now();
    tasks
        .into_iter()
        .map(|task| server::task_view(task, &names, now))
        .collect()
}

/// Lists the unacknowledged alerts routed to the signed-in clinician's roles on the care teams
/// of her current patients, most urgent first.
#[server(prefix = "/api", endpoint = "dashboard/alerts")]
pub async fn list_dashboard_alerts() -> Result<Vec<DashboardAlert>, AppError> {
    use std::collections::HashSet;

    use super::{queries, server};
    use crate::access::DataCategory;
    use crate::ids::PatientId;

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::require_care_team_role(&mut conn, &actor).await?;

    let mut visible = server::visible_patients(&mut conn, &actor, &[DataCategory::Contact]).await?;
    let patients = visible.patients();
    let alerts = queries::open_alerts(&mut conn, actor.clinic, &patients, actor.user).await?;

    let shown: HashSet<PatientId> = alerts
        .iter()
        .map(|alert| PatientId(alert.patient_id))
        .collect();
    visible.retain(&shown);
    let names = server::identities(&mut conn, &services, &visible, false, false).await?;
    server::record_list(&mut conn, &actor, &visible, &shown, &["care_alert.summary"]).await?;

    alerts
        .into_iter()
        .map(|alert| server::alert_view(alert, &names))
        .collect()
}
