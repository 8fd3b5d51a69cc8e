//! Server-side steps of the chart's task and alert functions. Each takes an authorization for
//! one category of one patient, touches only that category's rows of that patient, and records
//! the access in the audit trail in the same transaction.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use crate::access::guard::record_allowed_in_transaction;
use crate::access::{Actor, Authorization, DataCategory};
use crate::chart::{AlertView, TaskChangeView, TaskState, TaskView};
use crate::error::{AppError, ErrorCode};
use crate::events::Priority;
use crate::identity::support::timestamp;
use crate::ids::PatientId;
use crate::portal::server::StaffNames;
use crate::protocols::{self, CareTask, ProtocolError, TaskStatus};
use crate::services::Services;

/// Maps a protocol store error to the wire error. Internal causes are logged and never sent.
fn protocol_error(error: ProtocolError) -> AppError {
    match error {
        ProtocolError::NotFound => AppError::not_found(),
        ProtocolError::InvalidInput(message) => AppError::invalid_input(message),
        ProtocolError::TaskClosed(status) => AppError::new(
            ErrorCode::Conflict,
            format!("The task is already {status} and can no longer change. Reload the chart."),
        ),
        other => {
            tracing::error!(error = %other, "care protocol operation failed");
            AppError::internal()
        }
    }
}

pub fn task_state(status: TaskStatus) -> TaskState {
    match status {
        TaskStatus::Open => TaskState::Open,
        TaskStatus::InProgress => TaskState::InProgress,
        TaskStatus::Done => TaskState::Done,
        TaskStatus::Cancelled => TaskState::Cancelled,
    }
}

fn task_status(state: TaskState) -> TaskStatus {
    match state {
        TaskState::Open => TaskStatus::Open,
        TaskState::InProgress => TaskStatus::InProgress,
        TaskState::Done => TaskStatus::Done,
        TaskState::Cancelled => TaskStatus::Cancelled,
    }
}

/// Returns the authorized patient's tasks in the authorization's category, with their
/// histories and the names of the people involved.
pub async fn tasks(
    conn: &mut AsyncPgConnection,
    services: &Services,
    actor: &Actor,
    authorization: &Authorization,
) -> Result<Vec<TaskView>, AppError> {
    let mut lists = tasks_by_category(conn, services, actor, &[authorization]).await?;
    Ok(lists.pop().unwrap_or_default())
}

/// Returns one patient's tasks in the categories of `authorizations`, one list per
/// authorization, with their histories and the names of the people involved. One query reads
/// the tasks and one their histories, and each category's read is recorded as an access event.
pub async fn tasks_by_category(
    conn: &mut AsyncPgConnection,
    services: &Services,
    actor: &Actor,
    authorizations: &[&Authorization],
) -> Result<Vec<Vec<TaskView>>, AppError> {
    let clinic = actor.clinic;
    let Some((patient, categories)) = one_patient(authorizations)? else {
        return Ok(Vec::new());
    };
    let mut names = StaffNames::new(services);

    crate::db::in_transaction(conn, async move |conn| {
        let found = protocols::patient_tasks(conn, clinic, patient, &categories)
            .await
            .map_err(protocol_error)?;
        let ids: Vec<Uuid> = found.iter().map(|task| task.id).collect();
        let histories = protocols::task_histories(conn, clinic, &ids)
            .await
            .map_err(protocol_error)?;
        let people = found.iter().filter_map(|task| task.owner_user_id).chain(
            histories
                .iter()
                .flatten()
                .filter_map(|change| change.actor_user_id),
        );
        names.load(conn, people).await?;
        let mut lists: Vec<Vec<TaskView>> = vec![Vec::new(); categories.len()];
        for (task, history) in found.into_iter().zip(histories) {
            let mut changes = Vec::with_capacity(history.len());
            for change in history {
                let changed_by = match change.actor_user_id {
                    Some(user) => names.of(conn, user).await?,
                    None => "Care protocol".to_owned(),
                };
                changes.push(TaskChangeView {
                    changed_by,
                    status: task_state(change.status),
                    note: change.note,
                    changed_at: timestamp(change.changed_at),
                });
            }
            let owner_name = match task.owner_user_id {
                Some(user) => Some(names.of(conn, user).await?),
                None => None,
            };
            if let Some(index) = categories.iter().position(|c| *c == task.category) {
                lists[index].push(task_view(task, owner_name, changes));
            }
        }
        for authorization in authorizations {
            let element = format!("care_task.{}", authorization.category().as_str());
            record_allowed_in_transaction(conn, authorization, vec![element]).await?;
        }
        Ok(lists)
    })
    .await
}

/// Returns the one patient whom all of `authorizations` name, with their categories in order,
/// or `None` when there are none. Authorizations for different patients are a mistake of the
/// caller.
fn one_patient(
    authorizations: &[&Authorization],
) -> Result<Option<(PatientId, Vec<DataCategory>)>, AppError> {
    let Some(first) = authorizations.first() else {
        return Ok(None);
    };
    let patient = first.patient();
    if authorizations
        .iter()
        .any(|authorization| authorization.patient() != patient)
    {
        tracing::error!("one read was given the authorizations of several patients");
        return Err(AppError::internal());
    }
    let categories = authorizations
        .iter()
        .map(|authorization| authorization.category())
        .collect();
    Ok(Some((patient, categories)))
}

fn task_view(task: CareTask, owner_name: Option<String>, history: Vec<TaskChangeView>) -> TaskView {
    let summary = match task.rule {
        Some(rule) => rule.summary().to_owned(),
        None => task.kind.replace('_', " "),
    };
    TaskView {
        id: task.id.to_string(),
        summary,
        category: task.category,
        urgent: task.priority == Priority::Urgent,
        owner_role: task.owner_role,
        owner_name,
        due_at: timestamp(task.due_at),
        status: task_state(task.status),
        history,
    }
}

/// Moves one of the authorized patient's tasks in the authorized category to `state`.
pub async fn update_task(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    authorization: &Authorization,
    task_id: Uuid,
    state: TaskState,
    note: Option<String>,
) -> Result<TaskState, AppError> {
    let clinic = actor.clinic;
    let user = actor.user;
    let patient = authorization.patient();
    let category = [authorization.category()];

    conn.transaction::<_, AppError, _>(async move |conn| {
        let tasks = protocols::patient_tasks(conn, clinic, patient, &category)
            .await
            .map_err(protocol_error)?;
        let task = tasks
            .into_iter()
            .find(|task| task.id == task_id)
            .ok_or_else(AppError::not_found)?;
        let current = task_state(task.status);
        if !current.next().contains(&state) {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!(
                    "A task that is {} cannot become {}. Reload the chart to see its state.",
                    current.label().to_lowercase(),
                    state.label().to_lowercase()
                ),
            ));
        }
        let status = task_status(state);
        let changed = protocols::update_task(conn, clinic, task_id, user, status, None, note)
            .await
            .map_err(protocol_error)?;
        let element = format!("care_task.{}", authorization.category().as_str());
        record_allowed_in_transaction(conn, authorization, vec![element]).await?;
        Ok(task_state(changed.status))
    })
    .await
}

/// Returns the authorized patient's alerts in the authorized category.
pub async fn alerts(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    authorization: &Authorization,
) -> Result<Vec<AlertView>, AppError> {
    let mut lists = alerts_by_category(conn, actor, &[authorization]).await?;
    Ok(lists.pop().unwrap_or_default())
}

/// Returns one patient's alerts in the categories of `authorizations`, read in one query, as
/// one list per authorization, newest first. Each category's read is recorded as an access event.
pub async fn alerts_by_category(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    authorizations: &[&Authorization],
) -> Result<Vec<Vec<AlertView>>, AppError> {
    let clinic = actor.clinic;
    let Some((patient, categories)) = one_patient(authorizations)? else {
        return Ok(Vec::new());
    };

    crate::db::in_transaction(conn, async move |conn| {
        let found = protocols::patient_alerts(conn, clinic, patient, &categories)
            .await
            .map_err(protocol_error)?;
        for authorization in authorizations {
            let element = format!("care_alert.{}", authorization.category().as_str());
            record_allowed_in_transaction(conn, authorization, vec![element]).await?;
        }
        let mut lists: Vec<Vec<AlertView>> = vec![Vec::new(); categories.len()];
        for alert in found {
            let Some(index) = categories.iter().position(|c| *c == alert.category) else {
                continue;
            };
            lists[index].push(AlertView {
                id: alert.id.to_string(),
                summary: alert.rule.summary().to_owned(),
                category: alert.category,
                urgent: alert.priority == Priority::Urgent,
                threshold: alert.threshold,
                observed: alert.observed,
                raised_at: timestamp(alert.raised_at),
                acknowledged_at: alert.acknowledged_at.map(timestamp),
            });
        }
        Ok(lists)
    })
    .await
}

/// Acknowledges one of the authorized patient's alerts in the authorized category.
pub async fn acknowledge(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    authorization: &Authorization,
    alert_id: Uuid,
) -> Result<(), AppError> {
    let clinic = actor.clinic;
    let user = actor.user;
    let patient = authorization.patient();
    let category = [authorization.category()];

    conn.transaction::<_, AppError, _>(async move |conn| {
        let alerts = protocols::patient_alerts(conn, clinic, patient, &category)
            .await
            .map_err(protocol_error)?;
        if !alerts.iter().any(|alert| alert.id == alert_id) {
            return Err(AppError::not_found());
        }
        protocols::acknowledge_alert(conn, clinic, alert_id, user)
            .await
            .map_err(protocol_error)?;
        let element = format!("care_alert.{}", authorization.category().as_str());
        record_allowed_in_transaction(conn, authorization, vec![element]).await
    })
    .await
}
