//! Server functions of the chart's care work: the tasks and alerts that the care protocols
//! raise, and what the signed-in user's roles may see. Tasks and alerts carry the data
//! category of the observation behind them, so each call names one category and is authorized
//! for it.

use leptos::prelude::*;

use crate::access::DataCategory;
use crate::chart::{AlertView, CategoryPermission, TaskState, TaskView};
use crate::error::AppError;
use crate::ids::PatientId;

/// Lists what the signed-in user's staff roles may do with each data category in her clinic's
/// permission table. It names no patient: the chart uses it to leave out the sections that the
/// user's roles may never see, and every section is still authorized by the access policy.
#[server(prefix = "/api", endpoint = "chart/permissions")]
pub async fn my_chart_permissions() -> Result<Vec<CategoryPermission>, AppError> {
    use crate::access::settings;

    let (services, actor) = super::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let table = settings::permission_table(&mut conn, actor.clinic).await?;
    Ok(super::open_server::category_permissions(
        &table,
        &actor.roles,
    ))
}

/// Lists a patient's care tasks of one category, open ones first, each with its history.
#[server(prefix = "/api", endpoint = "chart/tasks")]
pub async fn list_chart_tasks(
    patient_id: PatientId,
    category: DataCategory,
    purpose: String,
) -> Result<Vec<TaskView>, AppError> {
    use crate::access::{Action, authorize};

    let (services, actor) = super::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Read,
        &purpose,
    )
    .await?;

    super::care_server::tasks(&mut conn, &services, &actor, &authorization).await
}

/// Moves a care task of the patient to `status`, with an optional note, and keeps the change in
/// the task's history. A task moves from open to in progress and then to done, and can be
/// cancelled until it is done. Any other change is rejected with 409.
#[server(prefix = "/api", endpoint = "chart/tasks/update")]
pub async fn update_chart_task(
    patient_id: PatientId,
    category: DataCategory,
    task_id: String,
    status: TaskState,
    note: Option<String>,
    purpose: String,
) -> Result<TaskState, AppError> {
    use crate::access::{Action, authorize};

    let (services, actor) = super::server::begin().await?;
    let task_id = crate::identity::support::parse_id(&task_id)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Write,
        &purpose,
    )
    .await?;

    super::care_server::update_task(&mut conn, &actor, &authorization, task_id, status, note).await
}

/// Lists a patient's alerts of one category, newest first.
#[server(prefix = "/api", endpoint = "chart/alerts")]
pub async fn list_chart_alerts(
    patient_id: PatientId,
    category: DataCategory,
    purpose: String,
) -> Result<Vec<AlertView>, AppError> {
    use crate::access::{Action, authorize};

    let (services, actor) = super::server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Read,
        &purpose,
    )
    .await?;

    super::care_server::alerts(&mut conn, &actor, &authorization).await
}

/// Acknowledges an alert of the patient, which tells the care team that someone has handled it.
/// The first acknowledgement stays, and acknowledging again changes nothing.
#[server(prefix = "/api", endpoint = "chart/alerts/acknowledge")]
pub async fn acknowledge_chart_alert(
    patient_id: PatientId,
    category: DataCategory,
    alert_id: String,
    purpose: String,
) -> Result<(), AppError> {
    use crate::access::{Action, authorize};

    let (services, actor) = super::server::begin().await?;
    let alert_id = crate::identity::support::parse_id(&alert_id)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        category,
        Action::Write,
        &purpose,
    )
    .await?;

    super::care_server::acknowledge(&mut conn, &actor, &authorization, alert_id).await
}
