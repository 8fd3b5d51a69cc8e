//! Protocol settings versions, rule firings, alerts and tasks in PostgreSQL.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rules::{Action, InfantFacts, ProtocolSettings, Rule, evaluate};
use crate::access::DataCategory;
use crate::audit::{
    AuditError, ClientInfo, NewSecurityEvent, SecurityEventKind, record_security_event,
};
use crate::events::{self, CareEventKind, EventsError, NewCareEvent, Priority};
use crate::identity::Role;
use crate::ids::{ClinicId, PatientId, UserId};
use crate::records::{ObservationKind, ObservationValue, observation_category};

mod schema {
    diesel::table! {
        protocol_settings (clinic_id, version) {
            clinic_id -> Uuid,
            version -> Integer,
            settings -> Jsonb,
            changed_by -> Nullable<Uuid>,
            changed_at -> Timestamptz,
        }
    }

    diesel::table! {
        protocol_firings (clinic_id, id) {
            id -> Uuid,
            clinic_id -> Uuid,
            patient_id -> Uuid,
            observation_id -> Uuid,
            rule -> Text,
            settings_version -> Integer,
            threshold -> Text,
            observed -> Text,
            fired_at -> Timestamptz,
        }
    }

    diesel::table! {
        care_alerts (clinic_id, id) {
            id -> Uuid,
            clinic_id -> Uuid,
            patient_id -> Uuid,
            firing_id -> Uuid,
            category -> Text,
            priority -> SmallInt,
            roles -> Array<Text>,
            raised_at -> Timestamptz,
            acknowledged_by -> Nullable<Uuid>,
            acknowledged_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        care_tasks (clinic_id, id) {
            id -> Uuid,
            clinic_id -> Uuid,
            patient_id -> Uuid,
            firing_id -> Nullable<Uuid>,
            kind -> Text,
            category -> Text,
            priority -> SmallInt,
            owner_role -> Text,
            owner_user_id -> Nullable<Uuid>,
            due_at -> Timestamptz,
            status -> Text,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        care_task_history (clinic_id, id) {
            id -> Uuid,
            clinic_id -> Uuid,
            task_id -> Uuid,
            actor_user_id -> Nullable<Uuid>,
            status -> Text,
            owner_user_id -> Nullable<Uuid>,
            note -> Nullable<Text>,
            changed_at -> Timestamptz,
        }
    }

    diesel::allow_tables_to_appear_in_same_query!(protocol_firings, care_alerts, care_tasks);
}

use schema::{care_alerts, care_task_history, care_tasks, protocol_firings, protocol_settings};

/// Maximum length of a note on a task change, in characters.
const MAX_NOTE_CHARS: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("the task or alert was not found")]
    NotFound,
    #[error("the task is {0} and can no longer change")]
    TaskClosed(&'static str),
    #[error("stored protocol data is malformed: {0}")]
    Malformed(String),
    #[error(transparent)]
    Events(#[from] EventsError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// A clinic's settings with their version; version 0 is the built-in defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VersionedSettings {
    pub version: i32,
    pub settings: ProtocolSettings,
}

/// Returns the clinic's settings in force.
pub async fn current_settings(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
) -> Result<VersionedSettings, ProtocolError> {
    let latest: Option<(i32, serde_json::Value)> = protocol_settings::table
        .filter(protocol_settings::clinic_id.eq(clinic_id.0))
        .order(protocol_settings::version.desc())
        .select((protocol_settings::version, protocol_settings::settings))
        .first(conn)
        .await
        .optional()?;
    match latest {
        None => Ok(VersionedSettings {
            version: 0,
            settings: ProtocolSettings::default(),
        }),
        Some((version, stored)) => {
            let settings = serde_json::from_value(stored)
                .map_err(|error| ProtocolError::Malformed(error.to_string()))?;
            Ok(VersionedSettings { version, settings })
        }
    }
}

/// One stored version of a clinic's settings, with who stored it and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SettingsVersion {
    pub version: i32,
    pub settings: ProtocolSettings,
    pub changed_by: Option<UserId>,
    pub changed_at: DateTime<Utc>,
}

/// Returns every stored version of the clinic's settings, newest first. A clinic that never
/// changed its settings has none and uses the built-in defaults (version 0).
pub async fn settings_history(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
) -> Result<Vec<SettingsVersion>, ProtocolError> {
    let rows: Vec<(i32, serde_json::Value, Option<Uuid>, DateTime<Utc>)> = protocol_settings::table
        .filter(protocol_settings::clinic_id.eq(clinic_id.0))
        .order(protocol_settings::version.desc())
        .select((
            protocol_settings::version,
            protocol_settings::settings,
            protocol_settings::changed_by,
            protocol_settings::changed_at,
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(version, stored, changed_by, changed_at)| {
            let settings = serde_json::from_value(stored).map_err(|error| {
                ProtocolError::Malformed(format!("protocol settings version {version}: {error}"))
            })?;
            Ok(SettingsVersion {
                version,
                settings,
                changed_by: changed_by.map(UserId),
                changed_at,
            })
        })
        .collect()
}

/// Stores `settings` as the clinic's next version and records the change in the security
/// audit trail, in one transaction. The caller checks that `actor` is the clinic's admin.
pub async fn change_settings(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    actor: UserId,
    settings: ProtocolSettings,
    client: ClientInfo,
) -> Result<i32, ProtocolError> {
    let stored = serde_json::to_value(settings)
        .map_err(|error| ProtocolError::Malformed(error.to_string()))?;
    conn.transaction::<_, ProtocolError, _>(async move |conn| {
        // Serializes concurrent changes of one clinic, so versions never collide.
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(hashtext('protocol_settings'), hashtext($1))",
        )
        .bind::<diesel::sql_types::Text, _>(clinic_id.0.to_string())
        .execute(conn)
        .await?;
        let previous = current_settings(conn, clinic_id).await?;
        let version = previous.version + 1;
        diesel::insert_into(protocol_settings::table)
            .values((
                protocol_settings::clinic_id.eq(clinic_id.0),
                protocol_settings::version.eq(version),
                protocol_settings::settings.eq(&stored),
                protocol_settings::changed_by.eq(actor.0),
                protocol_settings::changed_at.eq(Utc::now()),
            ))
            .execute(conn)
            .await?;
        record_security_event(
            conn,
            NewSecurityEvent {
                clinic_id,
                actor_user_id: Some(actor),
                subject_user_id: None,
                kind: SecurityEventKind::ProtocolSettingsChanged,
                detail: serde_json::json!({
                    "version": version,
                    "previous_version": previous.version,
                    "settings": stored,
                }),
                client,
            },
        )
        .await?;
        Ok(version)
    })
    .await
}

/// A new observation as the protocols see it.
#[derive(Debug, Clone)]
pub struct NewObservationFacts<'a> {
    pub clinic_id: ClinicId,
    pub patient_id: PatientId,
    pub observation_id: Uuid,
    pub value: &'a ObservationValue,
    /// Whether the observation is of one of the patient's infants.
    pub of_infant: bool,
    /// The infant's facts for an infant weight, which the growth rules need.
    pub infant: Option<InfantFacts>,
    pub recorded_at: DateTime<Utc>,
}

/// A rule that fired and what it created.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedFiring {
    pub firing_id: Uuid,
    pub rule: Rule,
    pub settings_version: i32,
    pub threshold: String,
    pub alert_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
}

/// Runs the clinic's rules on a new observation: records each firing with the settings version
/// and threshold in force, creates its alert or task, and notifies the care team (the observation
/// itself to the roles its kind concerns, alerts to their roles, tasks to their owner). Call it
/// inside the transaction that stores the observation, so that all of it commits or none does.
pub async fn apply_to_observation(
    conn: &mut AsyncPgConnection,
    facts: NewObservationFacts<'_>,
) -> Result<Vec<AppliedFiring>, ProtocolError> {
    let VersionedSettings { version, settings } = current_settings(conn, facts.clinic_id).await?;
    let firings = evaluate(&settings, facts.value, facts.infant);
    let category = observation_category(facts.value.kind(), facts.of_infant);
    let at = facts.recorded_at;
    let mut applied = Vec::with_capacity(firings.len());
    for firing in &firings {
        let firing_id = Uuid::new_v4();
        diesel::insert_into(protocol_firings::table)
            .values((
                protocol_firings::id.eq(firing_id),
                protocol_firings::clinic_id.eq(facts.clinic_id.0),
                protocol_firings::patient_id.eq(facts.patient_id.0),
                protocol_firings::observation_id.eq(facts.observation_id),
                protocol_firings::rule.eq(firing.rule.as_str()),
                protocol_firings::settings_version.eq(version),
                protocol_firings::threshold.eq(&firing.threshold),
                protocol_firings::observed.eq(&firing.observed),
                protocol_firings::fired_at.eq(at),
            ))
            .execute(conn)
            .await?;
        let mut result = AppliedFiring {
            firing_id,
            rule: firing.rule,
            settings_version: version,
            threshold: firing.threshold.clone(),
            alert_id: None,
            task_id: None,
        };
        match &firing.action {
            Action::Alert { roles } => {
                let alert_id = Uuid::new_v4();
                diesel::insert_into(care_alerts::table)
                    .values((
                        care_alerts::id.eq(alert_id),
                        care_alerts::clinic_id.eq(facts.clinic_id.0),
                        care_alerts::patient_id.eq(facts.patient_id.0),
                        care_alerts::firing_id.eq(firing_id),
                        care_alerts::category.eq(category.as_str()),
                        care_alerts::priority.eq(firing.priority.level()),
                        care_alerts::roles
                            .eq(roles.iter().map(|role| role.as_str()).collect::<Vec<_>>()),
                        care_alerts::raised_at.eq(at),
                    ))
                    .execute(conn)
                    .await?;
                let recipients =
                    events::care_team_audience(conn, facts.clinic_id, facts.patient_id, roles, at)
                        .await?;
                publish(
                    conn,
                    &facts,
                    CareEventKind::Alert,
                    firing.priority,
                    alert_id,
                    recipients,
                )
                .await?;
                result.alert_id = Some(alert_id);
            }
            Action::Task { owner, due_in } => {
                let owner_user =
                    first_member(conn, facts.clinic_id, facts.patient_id, *owner, at).await?;
                let task_id = Uuid::new_v4();
                diesel::insert_into(care_tasks::table)
                    .values((
                        care_tasks::id.eq(task_id),
                        care_tasks::clinic_id.eq(facts.clinic_id.0),
                        care_tasks::patient_id.eq(facts.patient_id.0),
                        care_tasks::firing_id.eq(Some(firing_id)),
                        care_tasks::kind.eq(firing.rule.as_str()),
                        care_tasks::category.eq(category.as_str()),
                        care_tasks::priority.eq(firing.priority.level()),
                        care_tasks::owner_role.eq(owner.as_str()),
                        care_tasks::owner_user_id.eq(owner_user.map(|user| user.0)),
                        care_tasks::due_at.eq(at + *due_in),
                        care_tasks::status.eq(TaskStatus::Open.as_str()),
                        care_tasks::created_at.eq(at),
                        care_tasks::updated_at.eq(at),
                    ))
                    .execute(conn)
                    .await?;
                insert_history(
                    conn,
                    facts.clinic_id,
                    task_id,
                    None,
                    TaskStatus::Open,
                    owner_user,
                    None,
                    at,
                )
                .await?;
                publish(
                    conn,
                    &facts,
                    CareEventKind::Task,
                    firing.priority,
                    task_id,
                    owner_user.into_iter().collect(),
                )
                .await?;
                result.task_id = Some(task_id);
            }
        }
        applied.push(result);
    }

    let priority = firings
        .iter()
        .map(|firing| firing.priority)
        .max()
        .unwrap_or(Priority::Routine);
    let kind = event_kind(facts.value.kind(), facts.of_infant);
    let recipients = events::care_team_audience(
        conn,
        facts.clinic_id,
        facts.patient_id,
        kind.default_audience(),
        at,
    )
    .await?;
    publish(
        conn,
        &facts,
        kind,
        priority,
        facts.observation_id,
        recipients,
    )
    .await?;
    Ok(applied)
}

async fn publish(
    conn: &mut AsyncPgConnection,
    facts: &NewObservationFacts<'_>,
    kind: CareEventKind,
    priority: Priority,
    subject: Uuid,
    recipients: Vec<UserId>,
) -> Result<(), ProtocolError> {
    events::publish(
        conn,
        &NewCareEvent {
            clinic_id: facts.clinic_id,
            patient_id: facts.patient_id,
            kind,
            priority,
            subject_id: Some(subject),
            recipients,
        },
    )
    .await?;
    Ok(())
}

/// Returns the care event kind of a new observation.
pub fn event_kind(kind: ObservationKind, of_infant: bool) -> CareEventKind {
    match kind {
        ObservationKind::Epds | ObservationKind::Phq9 | ObservationKind::Gad7 => {
            CareEventKind::Screening
        }
        ObservationKind::Feeding | ObservationKind::Nappy => CareEventKind::Feeding,
        ObservationKind::Weight | ObservationKind::Length | ObservationKind::HeadCircumference
            if of_infant =>
        {
            CareEventKind::Growth
        }
        _ => CareEventKind::Vitals,
    }
}

/// Returns the care-team member who has held `role` for the patient longest at `at`.
async fn first_member(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
    role: Role,
    at: DateTime<Utc>,
) -> Result<Option<UserId>, ProtocolError> {
    #[derive(QueryableByName)]
    struct Member {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        provider_user_id: Uuid,
    }
    let member: Option<Member> = diesel::sql_query(
        "SELECT provider_user_id FROM care_team_members \
         WHERE clinic_id = $1 AND patient_id = $2 AND role = $3 \
           AND starts_at <= $4 AND (ends_at IS NULL OR ends_at > $4) \
         ORDER BY starts_at, provider_user_id LIMIT 1",
    )
    .bind::<diesel::sql_types::Uuid, _>(clinic_id.0)
    .bind::<diesel::sql_types::Uuid, _>(patient_id.0)
    .bind::<diesel::sql_types::Text, _>(role.as_str())
    .bind::<diesel::sql_types::Timestamptz, _>(at)
    .get_result(conn)
    .await
    .optional()?;
    Ok(member.map(|member| UserId(member.provider_user_id)))
}

/// State of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    InProgress,
    Done,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [
        TaskStatus::Open,
        TaskStatus::InProgress,
        TaskStatus::Done,
        TaskStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Done => "done",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// Done and cancelled tasks are closed for good.
    pub fn is_closed(self) -> bool {
        matches!(self, TaskStatus::Done | TaskStatus::Cancelled)
    }
}

/// A task as clinicians see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CareTask {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub rule: Option<Rule>,
    pub kind: String,
    pub category: DataCategory,
    pub priority: Priority,
    pub owner_role: Role,
    pub owner_user_id: Option<UserId>,
    pub due_at: DateTime<Utc>,
    pub status: TaskStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = care_tasks, check_for_backend(diesel::pg::Pg))]
struct TaskRow {
    id: Uuid,
    patient_id: Uuid,
    kind: String,
    category: String,
    priority: i16,
    owner_role: String,
    owner_user_id: Option<Uuid>,
    due_at: DateTime<Utc>,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TaskRow {
    fn into_task(self) -> Result<CareTask, ProtocolError> {
        let malformed =
            |column: &str| ProtocolError::Malformed(format!("care_tasks.{column} of {}", self.id));
        Ok(CareTask {
            id: self.id,
            patient_id: PatientId(self.patient_id),
            rule: Rule::parse(&self.kind),
            category: DataCategory::parse(&self.category).ok_or_else(|| malformed("category"))?,
            priority: Priority::from_level(self.priority).ok_or_else(|| malformed("priority"))?,
            owner_role: Role::parse(&self.owner_role).ok_or_else(|| malformed("owner_role"))?,
            owner_user_id: self.owner_user_id.map(UserId),
            due_at: self.due_at,
            status: TaskStatus::parse(&self.status).ok_or_else(|| malformed("status"))?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            kind: self.kind,
        })
    }
}

/// Returns the patient's tasks in `categories`, open ones first, then by due time.
pub async fn patient_tasks(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
    categories: &[DataCategory],
) -> Result<Vec<CareTask>, ProtocolError> {
    let names: Vec<&str> = categories
        .iter()
        .map(|category| category.as_str())
        .collect();
    let rows: Vec<TaskRow> = care_tasks::table
        .filter(care_tasks::clinic_id.eq(clinic_id.0))
        .filter(care_tasks::patient_id.eq(patient_id.0))
        .filter(care_tasks::category.eq_any(names))
        .order((care_tasks::due_at.asc(), care_tasks::id.asc()))
        .select(TaskRow::as_select())
        .load(conn)
        .await?;
    let mut tasks = rows
        .into_iter()
        .map(TaskRow::into_task)
        .collect::<Result<Vec<_>, _>>()?;
    tasks.sort_by_key(|task| task.status.is_closed());
    Ok(tasks)
}

/// Returns the open tasks owned by `user`, most urgent first, then by due time.
pub async fn open_tasks_of(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<Vec<CareTask>, ProtocolError> {
    let rows: Vec<TaskRow> = care_tasks::table
        .filter(care_tasks::owner_user_id.eq(user.0))
        .filter(
            care_tasks::status.eq_any([TaskStatus::Open.as_str(), TaskStatus::InProgress.as_str()]),
        )
        .order((care_tasks::priority.desc(), care_tasks::due_at.asc()))
        .select(TaskRow::as_select())
        .load(conn)
        .await?;
    rows.into_iter().map(TaskRow::into_task).collect()
}

/// Changes a task's status and optionally its owner, with a history entry. Closed tasks stay
/// closed. Returns the task as changed.
pub async fn update_task(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    task_id: Uuid,
    actor: UserId,
    status: TaskStatus,
    owner: Option<UserId>,
    note: Option<String>,
) -> Result<CareTask, ProtocolError> {
    let note = note
        .map(|note| note.trim().to_owned())
        .filter(|note| !note.is_empty());
    if note
        .as_ref()
        .is_some_and(|note| note.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(ProtocolError::InvalidInput(format!(
            "A task note can be at most {MAX_NOTE_CHARS} characters."
        )));
    }
    conn.transaction::<_, ProtocolError, _>(async move |conn| {
        let row: TaskRow = care_tasks::table
            .filter(care_tasks::clinic_id.eq(clinic_id.0))
            .filter(care_tasks::id.eq(task_id))
            .for_update()
            .select(TaskRow::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or(ProtocolError::NotFound)?;
        let task = row.into_task()?;
        if task.status.is_closed() {
            return Err(ProtocolError::TaskClosed(task.status.as_str()));
        }
        let owner = owner.or(task.owner_user_id);
        let now = Utc::now();
        diesel::update(
            care_tasks::table
                .filter(care_tasks::clinic_id.eq(clinic_id.0))
                .filter(care_tasks::id.eq(task_id)),
        )
        .set((
            care_tasks::status.eq(status.as_str()),
            care_tasks::owner_user_id.eq(owner.map(|user| user.0)),
            care_tasks::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
        insert_history(
            conn,
            clinic_id,
            task_id,
            Some(actor),
            status,
            owner,
            note,
            now,
        )
        .await?;
        Ok(CareTask {
            status,
            owner_user_id: owner,
            updated_at: now,
            ..task
        })
    })
    .await
}

/// One change in a task's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskChange {
    pub actor_user_id: Option<UserId>,
    pub status: TaskStatus,
    pub owner_user_id: Option<UserId>,
    pub note: Option<String>,
    pub changed_at: DateTime<Utc>,
}

/// Columns of a history row: actor, status, owner, note and time.
type HistoryRow = (
    Option<Uuid>,
    String,
    Option<Uuid>,
    Option<String>,
    DateTime<Utc>,
);

/// Returns a task's history, oldest first.
pub async fn task_history(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    task_id: Uuid,
) -> Result<Vec<TaskChange>, ProtocolError> {
    let mut histories = task_histories(conn, clinic_id, &[task_id]).await?;
    Ok(histories.pop().unwrap_or_default())
}

/// Returns the histories of several tasks in one query, in the order of `task_ids`, each
/// oldest first.
pub async fn task_histories(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    task_ids: &[Uuid],
) -> Result<Vec<Vec<TaskChange>>, ProtocolError> {
    let mut histories: Vec<Vec<TaskChange>> = vec![Vec::new(); task_ids.len()];
    if task_ids.is_empty() {
        return Ok(histories);
    }
    let rows: Vec<(Uuid, HistoryRow)> = care_task_history::table
        .filter(care_task_history::clinic_id.eq(clinic_id.0))
        .filter(care_task_history::task_id.eq_any(task_ids))
        .order((
            care_task_history::changed_at.asc(),
            care_task_history::id.asc(),
        ))
        .select((
            care_task_history::task_id,
            (
                care_task_history::actor_user_id,
                care_task_history::status,
                care_task_history::owner_user_id,
                care_task_history::note,
                care_task_history::changed_at,
            ),
        ))
        .load(conn)
        .await?;
    for (task_id, (actor, status, owner, note, changed_at)) in rows {
        let Some(index) = task_ids.iter().position(|id| *id == task_id) else {
            continue;
        };
        histories[index].push(TaskChange {
            actor_user_id: actor.map(UserId),
            status: TaskStatus::parse(&status)
                .ok_or_else(|| ProtocolError::Malformed(format!("task status {status}")))?,
            owner_user_id: owner.map(UserId),
            note,
            changed_at,
        });
    }
    Ok(histories)
}

#[allow(
    clippy::too_many_arguments,
    reason = "one value per column of the history row"
)]
async fn insert_history(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    task_id: Uuid,
    actor: Option<UserId>,
    status: TaskStatus,
    owner: Option<UserId>,
    note: Option<String>,
    at: DateTime<Utc>,
) -> Result<(), ProtocolError> {
    diesel::insert_into(care_task_history::table)
        .values((
            care_task_history::id.eq(Uuid::new_v4()),
            care_task_history::clinic_id.eq(clinic_id.0),
            care_task_history::task_id.eq(task_id),
            care_task_history::actor_user_id.eq(actor.map(|user| user.0)),
            care_task_history::status.eq(status.as_str()),
            care_task_history::owner_user_id.eq(owner.map(|user| user.0)),
            care_task_history::note.eq(note),
            care_task_history::changed_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// An alert as clinicians see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CareAlert {
    pub id: Uuid,
    pub patient_id: PatientId,
    pub rule: Rule,
    pub category: DataCategory,
    pub priority: Priority,
    pub threshold: String,
    pub observed: String,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// Returns the patient's alerts in `categories` for a clinician in one of `roles`, newest first.
pub async fn patient_alerts(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
    categories: &[DataCategory],
) -> Result<Vec<CareAlert>, ProtocolError> {
    let names: Vec<&str> = categories
        .iter()
        .map(|category| category.as_str())
        .collect();
    #[allow(clippy::type_complexity, reason = "the selected columns")]
    let rows: Vec<(
        Uuid,
        String,
        String,
        i16,
        String,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    )> = care_alerts::table
        .inner_join(
            protocol_firings::table.on(protocol_firings::clinic_id
                .eq(care_alerts::clinic_id)
                .and(protocol_firings::id.eq(care_alerts::firing_id))),
        )
        .filter(care_alerts::clinic_id.eq(clinic_id.0))
        .filter(care_alerts::patient_id.eq(patient_id.0))
        .filter(care_alerts::category.eq_any(names))
        .order(care_alerts::raised_at.desc())
        .select((
            care_alerts::id,
            protocol_firings::rule,
            care_alerts::category,
            care_alerts::priority,
            protocol_firings::threshold,
            protocol_firings::observed,
            care_alerts::raised_at,
            care_alerts::acknowledged_at,
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(
            |(id, rule, category, priority, threshold, observed, raised_at, acknowledged_at)| {
                let malformed = || ProtocolError::Malformed(format!("care alert {id}"));
                Ok(CareAlert {
                    id,
                    patient_id,
                    rule: Rule::parse(&rule).ok_or_else(malformed)?,
                    category: DataCategory::parse(&category).ok_or_else(malformed)?,
                    priority: Priority::from_level(priority).ok_or_else(malformed)?,
                    threshold,
                    observed,
                    raised_at,
                    acknowledged_at,
                })
            },
        )
        .collect()
}

/// Marks an alert as seen by `actor`; the first acknowledgement stays.
pub async fn acknowledge_alert(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    alert_id: Uuid,
    actor: UserId,
) -> Result<(), ProtocolError> {
    let found: Option<Uuid> = care_alerts::table
        .filter(care_alerts::clinic_id.eq(clinic_id.0))
        .filter(care_alerts::id.eq(alert_id))
        .select(care_alerts::id)
        .first(conn)
        .await
        .optional()?;
    if found.is_none() {
        return Err(ProtocolError::NotFound);
    }
    diesel::update(
        care_alerts::table
            .filter(care_alerts::clinic_id.eq(clinic_id.0))
            .filter(care_alerts::id.eq(alert_id))
            .filter(care_alerts::acknowledged_at.is_null()),
    )
    .set((
        care_alerts::acknowledged_by.eq(actor.0),
        care_alerts::acknowledged_at.eq(Utc::now()),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// A recorded firing, for the record of which threshold was in force.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedFiring {
    pub rule: Rule,
    pub settings_version: i32,
    pub threshold: String,
    pub observed: String,
    pub fired_at: DateTime<Utc>,
}

/// Returns the firings caused by one observation, in the order they were recorded.
pub async fn firings_of_observation(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    observation_id: Uuid,
) -> Result<Vec<RecordedFiring>, ProtocolError> {
    let rows: Vec<(String, i32, String, String, DateTime<Utc>)> = protocol_firings::table
        .filter(protocol_firings::clinic_id.eq(clinic_id.0))
        .filter(protocol_firings::observation_id.eq(observation_id))
        .order((
            protocol_firings::fired_at.asc(),
            protocol_firings::rule.asc(),
        ))
        .select((
            protocol_firings::rule,
            protocol_firings::settings_version,
            protocol_firings::threshold,
            protocol_firings::observed,
            protocol_firings::fired_at,
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(rule, settings_version, threshold, observed, fired_at)| {
            Ok(RecordedFiring {
                rule: Rule::parse(&rule)
                    .ok_or_else(|| ProtocolError::Malformed(format!("rule {rule}")))?,
                settings_version,
                threshold,
                observed,
                fired_at,
            })
        })
        .collect()
}
