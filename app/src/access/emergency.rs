//! Break-glass emergency access: requests, the clinic's rule that grants critical requests at
//! once, approval and denial by a compliance officer or admin, notifications to compliance, and
//! the review that every grant needs afterwards.
//!
//! A grant covers one clinician and one patient from `granted_at` until `expires_at`. The policy
//! stops honouring it at that instant, so nothing has to run for it to expire.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::gate;
use super::guard::Actor;
use super::policy::{EMERGENCY_ROLES, EmergencyGrant};
use super::settings;
use super::tables::{compliance_notifications, emergency_access};
use super::{Action, EmergencyLevel, EmergencyStatus};
use crate::audit::SecurityEventKind;
use crate::error::{AppError, ErrorCode};
use crate::identity::Role;
use crate::identity::server::events::{self, Event};
use crate::ids::{ClinicId, PatientId, UserId};

const MIN_JUSTIFICATION_CHARS: usize = 10;

/// Purpose recorded in the data-access audit trail for break-glass requests and oversight.
pub const PURPOSE: &str = "break-glass emergency access";

/// Roles that decide pending requests.
pub const DECIDERS: &[Role] = &[Role::ComplianceOfficer, Role::Admin];

/// Roles that review grants and read compliance notifications.
pub const REVIEWERS: &[Role] = &[Role::ComplianceOfficer];
const MAX_TEXT_CHARS: usize = 2000;

/// A stored break-glass request and, once granted, its grant.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = emergency_access)]
pub struct EmergencyAccess {
    pub id: uuid::Uuid,
    pub clinic_id: uuid::Uuid,
    pub patient_id: uuid::Uuid,
    pub requester_user_id: uuid::Uuid,
    pub level: String,
    pub justification: String,
    pub status: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<uuid::Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub granted_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<uuid::Uuid>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
}

/// Returns the trimmed text if it has `min` to [`MAX_TEXT_CHARS`] characters.
fn checked_text(text: &str, min: usize, what: &str) -> Result<String, AppError> {
    let trimmed = text.trim();
    let length = trimmed.chars().count();
    if length < min || length > MAX_TEXT_CHARS {
        return Err(AppError::invalid_input(format!(
            "The {what} must be {min} to {MAX_TEXT_CHARS} characters."
        )));
    }
    Ok(trimmed.to_owned())
}

/// Files a break-glass request of `actor` for `patient`, granting it at once when it is
/// critical and the clinic allows that. Only clinicians may ask, and only for a patient of their
/// clinic; a refusal is audited. Compliance is notified either way, and the request is audited
/// as a write of the patient's care logistics, in the same transaction.
pub async fn request(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    level: EmergencyLevel,
    justification: &str,
) -> Result<EmergencyAccess, AppError> {
    let justification = checked_text(justification, MIN_JUSTIFICATION_CHARS, "justification")?;
    let patient_id = Some(patient);
    gate::require_roles(
        conn,
        actor,
        &EMERGENCY_ROLES,
        patient_id,
        Action::Write,
        PURPOSE,
    )
    .await?;
    gate::require_clinic_patient(conn, actor, patient, Action::Write, PURPOSE).await?;
    let settings = settings::load(conn, actor.clinic).await?;
    let now = Utc::now();
    let granted = level == EmergencyLevel::Critical && settings.auto_grant_critical;
    let expires_at = now + Duration::minutes(i64::from(settings.emergency_grant_minutes));
    let row = EmergencyAccess {
        id: uuid::Uuid::new_v4(),
        clinic_id: actor.clinic.0,
        patient_id: patient.0,
        requester_user_id: actor.user.0,
        level: level.as_str().to_owned(),
        justification,
        status: if granted { "granted" } else { "pending" }.to_owned(),
        requested_at: now,
        decided_by: None,
        decided_at: granted.then_some(now),
        decision_reason: granted.then(|| "granted at once by the clinic's rule".to_owned()),
        granted_at: granted.then_some(now),
        expires_at: granted.then_some(expires_at),
        reviewed_by: None,
        reviewed_at: None,
        review_note: None,
    };

    let stored = row.clone();
    conn.transaction::<_, AppError, _>(async move |conn| {
        insert(conn, &stored).await?;
        let kind = if granted {
            SecurityEventKind::EmergencyAccessStarted
        } else {
            SecurityEventKind::EmergencyAccessRequested
        };
        notify(conn, &stored, granted).await?;
        record_event(conn, &stored, kind, actor.user).await?;
        let element = "emergency_access.request";
        gate::record_use(conn, actor, patient_id, Action::Write, PURPOSE, element).await
    })
    .await?;
    Ok(row)
}

async fn insert(conn: &mut AsyncPgConnection, row: &EmergencyAccess) -> Result<(), AppError> {
    diesel::insert_into(emergency_access::table)
        .values((
            emergency_access::id.eq(row.id),
            emergency_access::clinic_id.eq(row.clinic_id),
            emergency_access::patient_id.eq(row.patient_id),
            emergency_access::requester_user_id.eq(row.requester_user_id),
            emergency_access::level.eq(&row.level),
            emergency_access::justification.eq(&row.justification),
            emergency_access::status.eq(&row.status),
            emergency_access::requested_at.eq(row.requested_at),
            emergency_access::decided_at.eq(row.decided_at),
            emergency_access::decision_reason.eq(&row.decision_reason),
            emergency_access::granted_at.eq(row.granted_at),
            emergency_access::expires_at.eq(row.expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a notification for the clinic's compliance officers.
async fn notify(
    conn: &mut AsyncPgConnection,
    row: &EmergencyAccess,
    granted: bool,
) -> Result<(), AppError> {
    let kind = if granted {
        "emergency_granted"
    } else {
        "emergency_requested"
    };
    diesel::insert_into(compliance_notifications::table)
        .values((
            compliance_notifications::id.eq(uuid::Uuid::new_v4()),
            compliance_notifications::clinic_id.eq(row.clinic_id),
            compliance_notifications::emergency_access_id.eq(row.id),
            compliance_notifications::kind.eq(kind),
            compliance_notifications::created_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

async fn record_event(
    conn: &mut AsyncPgConnection,
    row: &EmergencyAccess,
    kind: SecurityEventKind,
    actor: UserId,
) -> Result<(), AppError> {
    let event = Event {
        kind,
        clinic_id: ClinicId(row.clinic_id),
        actor: Some(actor),
        subject: Some(UserId(row.requester_user_id)),
        detail: serde_json::json!({
            "emergency_access_id": row.id,
            "level": row.level,
            "expires_at": row.expires_at,
        }),
    };
    events::record(conn, event).await
}

/// Checks that `actor` has one of `roles` and that request `id` concerns a patient of her
/// clinic, auditing a refusal. A request that does not exist is not found, unaudited, as a
/// missing record.
async fn require_overseer(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    roles: &[Role],
    id: uuid::Uuid,
) -> Result<PatientId, AppError> {
    let patient: Option<uuid::Uuid> = emergency_access::table
        .find(id)
        .select(emergency_access::patient_id)
        .first(conn)
        .await
        .optional()?;
    let patient = PatientId(patient.ok_or_else(AppError::not_found)?);
    gate::require_roles(conn, actor, roles, Some(patient), Action::Write, PURPOSE).await?;
    gate::require_clinic_patient(conn, actor, patient, Action::Write, PURPOSE).await?;
    Ok(patient)
}

/// Loads a request of the actor's clinic, locked for update.
async fn load_for_update(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    id: uuid::Uuid,
) -> Result<EmergencyAccess, AppError> {
    emergency_access::table
        .find(id)
        .filter(emergency_access::clinic_id.eq(clinic.0))
        .select(EmergencyAccess::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(AppError::not_found)
}

/// Approves or denies a pending request. Compliance officers and admins of the clinic decide,
/// never on their own request. The decision is audited as a write of the patient's care
/// logistics.
pub async fn decide(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    id: uuid::Uuid,
    approve: bool,
    reason: &str,
) -> Result<EmergencyAccess, AppError> {
    let reason = checked_text(reason, 1, "reason")?;
    let patient = require_overseer(conn, actor, DECIDERS, id).await?;

    conn.transaction::<_, AppError, _>(async move |conn| {
        let mut row = load_for_update(conn, actor.clinic, id).await?;
        if row.status != EmergencyStatus::Pending.as_str() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "This request was already decided.",
            ));
        }
        if row.requester_user_id == actor.user.0 {
            return Err(AppError::invalid_input(
                "Someone else must decide your own emergency access request.",
            ));
        }
        let now = Utc::now();
        let settings = settings::load(conn, actor.clinic).await?;
        row.decided_by = Some(actor.user.0);
        row.decided_at = Some(now);
        row.decision_reason = Some(reason);
        if approve {
            row.status = EmergencyStatus::Granted.as_str().to_owned();
            row.granted_at = Some(now);
            row.expires_at =
                Some(now + Duration::minutes(i64::from(settings.emergency_grant_minutes)));
        } else {
            row.status = EmergencyStatus::Denied.as_str().to_owned();
        }
        diesel::update(emergency_access::table.find(id))
            .set((
                emergency_access::status.eq(&row.status),
                emergency_access::decided_by.eq(row.decided_by),
                emergency_access::decided_at.eq(row.decided_at),
                emergency_access::decision_reason.eq(&row.decision_reason),
                emergency_access::granted_at.eq(row.granted_at),
                emergency_access::expires_at.eq(row.expires_at),
            ))
            .execute(conn)
            .await?;
        if approve {
            notify(conn, &row, true).await?;
        }
        let kind = if approve {
            SecurityEventKind::EmergencyAccessStarted
        } else {
            SecurityEventKind::EmergencyAccessDenied
        };
        record_event(conn, &row, kind, actor.user).await?;
        let element = "emergency_access.decision";
        gate::record_use(conn, actor, Some(patient), Action::Write, PURPOSE, element).await?;
        Ok(row)
    })
    .await
}

/// Records a compliance officer's review of a grant, audited as a write of the patient's care
/// logistics.
pub async fn review(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    id: uuid::Uuid,
    note: &str,
) -> Result<EmergencyAccess, AppError> {
    let note = checked_text(note, 1, "review note")?;
    let patient = require_overseer(conn, actor, REVIEWERS, id).await?;

    conn.transaction::<_, AppError, _>(async move |conn| {
        let mut row = load_for_update(conn, actor.clinic, id).await?;
        if row.status != EmergencyStatus::Granted.as_str() || row.reviewed_at.is_some() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "Only a grant that was not reviewed yet can be reviewed.",
            ));
        }
        row.reviewed_by = Some(actor.user.0);
        row.reviewed_at = Some(Utc::now());
        row.review_note = Some(note);
        diesel::update(emergency_access::table.find(id))
            .set((
                emergency_access::reviewed_by.eq(row.reviewed_by),
                emergency_access::reviewed_at.eq(row.reviewed_at),
                emergency_access::review_note.eq(&row.review_note),
            ))
            .execute(conn)
            .await?;
        record_event(
            conn,
            &row,
            SecurityEventKind::EmergencyAccessReviewed,
            actor.user,
        )
        .await?;
        let element = "emergency_access.review";
        gate::record_use(conn, actor, Some(patient), Action::Write, PURPOSE, element).await?;
        Ok(row)
    })
    .await
}

/// A queue of a clinic's break-glass requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// Requests waiting for a decision.
    Pending,
    /// Grants, current or expired, that no compliance officer reviewed yet.
    Unreviewed,
}

/// Lists a queue of the clinic, oldest first.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    queue: Queue,
) -> Result<Vec<EmergencyAccess>, AppError> {
    let query = emergency_access::table
        .filter(emergency_access::clinic_id.eq(clinic.0))
        .order((emergency_access::requested_at, emergency_access::id))
        .select(EmergencyAccess::as_select())
        .into_boxed();
    let query = match queue {
        Queue::Pending => query.filter(emergency_access::status.eq("pending")),
        Queue::Unreviewed => query
            .filter(emergency_access::status.eq("granted"))
            .filter(emergency_access::reviewed_at.is_null()),
    };
    Ok(query.load(conn).await?)
}

/// Lists a clinician's own requests, newest first.
pub async fn requests_of(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
) -> Result<Vec<EmergencyAccess>, AppError> {
    Ok(emergency_access::table
        .filter(emergency_access::clinic_id.eq(actor.clinic.0))
        .filter(emergency_access::requester_user_id.eq(actor.user.0))
        .order((emergency_access::requested_at.desc(), emergency_access::id))
        .select(EmergencyAccess::as_select())
        .limit(100)
        .load(conn)
        .await?)
}

/// Lists the compliance notifications of a clinic with their requests, newest first.
pub async fn notifications(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
) -> Result<Vec<(String, DateTime<Utc>, EmergencyAccess)>, AppError> {
    Ok(compliance_notifications::table
        .inner_join(
            emergency_access::table
                .on(emergency_access::id.eq(compliance_notifications::emergency_access_id)),
        )
        .filter(compliance_notifications::clinic_id.eq(clinic.0))
        .order((
            compliance_notifications::created_at.desc(),
            compliance_notifications::id,
        ))
        .select((
            compliance_notifications::kind,
            compliance_notifications::created_at,
            EmergencyAccess::as_select(),
        ))
        .limit(100)
        .load(conn)
        .await?)
}

/// Returns every grant on a patient, for the policy to check against the request's instant.
pub async fn grants_for(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patient: PatientId,
) -> Result<Vec<EmergencyGrant>, AppError> {
    let mut grants = grants_for_patients(conn, clinic, &[patient]).await?;
    Ok(grants.remove(&patient).unwrap_or_default())
}

/// Returns [`grants_for`] of each of `patients`, patients of `clinic`, in one query. A patient
/// without any grant is left out.
pub async fn grants_for_patients(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patients: &[PatientId],
) -> Result<HashMap<PatientId, Vec<EmergencyGrant>>, AppError> {
    type Row = (
        uuid::Uuid,
        uuid::Uuid,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let ids: Vec<uuid::Uuid> = patients.iter().map(|patient| patient.0).collect();
    let rows: Vec<Row> = emergency_access::table
        .filter(emergency_access::clinic_id.eq(clinic.0))
        .filter(emergency_access::patient_id.eq_any(ids))
        .filter(emergency_access::status.eq("granted"))
        .select((
            emergency_access::patient_id,
            emergency_access::requester_user_id,
            emergency_access::granted_at,
            emergency_access::expires_at,
        ))
        .load(conn)
        .await?;
    let mut grants: HashMap<PatientId, Vec<EmergencyGrant>> = HashMap::new();
    for (patient, user, granted_at, expires_at) in rows {
        let (Some(granted_at), Some(expires_at)) = (granted_at, expires_at) else {
            continue;
        };
        grants
            .entry(PatientId(patient))
            .or_default()
            .push(EmergencyGrant {
                user: UserId(user),
                granted_at,
                expires_at,
            });
    }
    Ok(grants)
}
