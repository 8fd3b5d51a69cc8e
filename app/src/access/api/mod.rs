//! Server functions of access control: break-glass requests and their approval and review
//! queues, care-team management, a patient's access history and the clinic's permission table.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::access::Action;
use crate::access::{EmergencyLevel, PermissionTable};
use crate::error::AppError;
use crate::identity::Role;
use crate::ids::{PatientId, UserId};

#[cfg(feature = "ssr")]
mod server;

/// A break-glass request as the requester and compliance see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyView {
    pub id: String,
    pub patient_id: PatientId,
    pub requester: UserId,
    pub requester_name: String,
    pub level: EmergencyLevel,
    pub justification: String,
    pub status: crate::access::EmergencyStatus,
    pub requested_at: String,
    pub decided_at: Option<String>,
    pub decision_reason: Option<String>,
    pub granted_at: Option<String>,
    pub expires_at: Option<String>,
    pub reviewed_at: Option<String>,
    pub review_note: Option<String>,
}

/// A notification for compliance officers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceNotification {
    /// `emergency_requested` or `emergency_granted`.
    pub kind: String,
    pub created_at: String,
    pub request: EmergencyView,
}

/// A care-team membership, as shown to the admin or coordinator who manages it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipView {
    pub id: String,
    pub provider: UserId,
    pub provider_name: String,
    pub role: Role,
    pub starts_at: String,
    pub ends_at: Option<String>,
    pub active: bool,
}

/// One access to a patient's record, as shown in her access history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessHistoryItem {
    pub occurred_at: String,
    /// Name of the person, or "Nurture" for the system.
    pub who: String,
    pub roles: Vec<String>,
    /// "read", "write", "delete" or "export".
    pub action: String,
    /// Kinds of data, in words.
    pub data: Vec<String>,
    pub purpose: String,
    pub emergency: bool,
    pub allowed: bool,
}

/// A clinic's access settings, as shown to an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSettingsView {
    pub permissions: PermissionTable,
    pub auto_grant_critical: bool,
    pub emergency_grant_minutes: i32,
}

/// Asks for break-glass emergency access to a patient outside the clinician's care. Needs a
/// recent passkey step-up.
#[server(prefix = "/api", endpoint = "emergency/request")]
pub async fn request_emergency_access(
    patient_id: PatientId,
    level: EmergencyLevel,
    justification: String,
) -> Result<EmergencyView, AppError> {
    use crate::access::emergency;
    use crate::identity::server::auth;

    let (services, actor) = server::begin().await?;
    auth::require_recent_step_up(&services).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let row = emergency::request(&mut conn, &actor, patient_id, level, &justification).await?;
    server::emergency_view(&services, &mut conn, row).await
}

/// Lists the signed-in clinician's own break-glass requests, newest first. Clinicians.
#[server(prefix = "/api", endpoint = "emergency/mine")]
pub async fn my_emergency_requests() -> Result<Vec<EmergencyView>, AppError> {
    use crate::access::emergency;
    use crate::access::policy::EMERGENCY_ROLES;

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::open_emergency_list(&mut conn, &actor, &EMERGENCY_ROLES).await?;
    let rows = emergency::requests_of(&mut conn, &actor).await?;
    server::emergency_views(&services, &mut conn, rows).await
}

/// Lists break-glass requests waiting for a decision. Compliance officers and admins.
#[server(prefix = "/api", endpoint = "emergency/pending")]
pub async fn pending_emergency_requests() -> Result<Vec<EmergencyView>, AppError> {
    use crate::access::emergency::{self, DECIDERS, Queue};

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::open_emergency_list(&mut conn, &actor, DECIDERS).await?;
    let rows = emergency::queue(&mut conn, actor.clinic, Queue::Pending).await?;
    server::emergency_views(&services, &mut conn, rows).await
}

/// Lists grants that no compliance officer has reviewed yet. Compliance officers.
#[server(prefix = "/api", endpoint = "emergency/unreviewed")]
pub async fn unreviewed_emergency_grants() -> Result<Vec<EmergencyView>, AppError> {
    use crate::access::emergency::{self, Queue, REVIEWERS};

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::open_emergency_list(&mut conn, &actor, REVIEWERS).await?;
    let rows = emergency::queue(&mut conn, actor.clinic, Queue::Unreviewed).await?;
    server::emergency_views(&services, &mut conn, rows).await
}

/// Approves or denies a pending break-glass request, with a reason.
#[server(prefix = "/api", endpoint = "emergency/decide")]
pub async fn decide_emergency_request(
    id: String,
    approve: bool,
    reason: String,
) -> Result<EmergencyView, AppError> {
    use crate::access::emergency;

    let (services, actor) = server::begin().await?;
    let id = crate::identity::support::parse_id(&id)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let row = emergency::decide(&mut conn, &actor, id, approve, &reason).await?;
    server::emergency_view(&services, &mut conn, row).await
}

/// Records a compliance officer's review of a break-glass grant.
#[server(prefix = "/api", endpoint = "emergency/review")]
pub async fn review_emergency_grant(id: String, note: String) -> Result<EmergencyView, AppError> {
    use crate::access::emergency;

    let (services, actor) = server::begin().await?;
    let id = crate::identity::support::parse_id(&id)?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let row = emergency::review(&mut conn, &actor, id, &note).await?;
    server::emergency_view(&services, &mut conn, row).await
}

/// Lists the clinic's compliance notifications, newest first. Compliance officers.
#[server(prefix = "/api", endpoint = "emergency/notifications")]
pub async fn compliance_notifications() -> Result<Vec<ComplianceNotification>, AppError> {
    use crate::access::emergency::{self, REVIEWERS};
    use crate::identity::support::timestamp;

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::open_emergency_list(&mut conn, &actor, REVIEWERS).await?;
    let rows = emergency::notifications(&mut conn, actor.clinic).await?;
    let mut found = Vec::with_capacity(rows.len());
    for (kind, created_at, row) in rows {
        found.push(ComplianceNotification {
            kind,
            created_at: timestamp(created_at),
            request: server::emergency_view(&services, &mut conn, row).await?,
        });
    }
    Ok(found)
}

/// Lists a patient's care team, past and present. Admins and care coordinators.
#[server(prefix = "/api", endpoint = "care-team/list")]
pub async fn list_care_team_members(
    patient_id: PatientId,
) -> Result<Vec<MembershipView>, AppError> {
    use crate::records;

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::require_care_team_manager(&mut conn, &actor, patient_id, Action::Read).await?;
    let access = server::management_context(&actor);
    let members = records::list_care_team_for_management(&mut conn, &access, patient_id).await?;
    server::membership_views(&services, &mut conn, members).await
}

/// Adds a provider of the clinic to a patient's care team from `starts_at` (RFC 3339, default
/// now) until `ends_at` (RFC 3339, default open-ended). Admins and care coordinators.
#[server(prefix = "/api", endpoint = "care-team/add")]
pub async fn add_care_team_membership(
    patient_id: PatientId,
    provider: UserId,
    role: Role,
    starts_at: Option<String>,
    ends_at: Option<String>,
) -> Result<String, AppError> {
    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::require_care_team_manager(&mut conn, &actor, patient_id, Action::Write).await?;
    let id = server::add_membership(
        &mut conn, &actor, patient_id, provider, role, starts_at, ends_at,
    )
    .await?;
    Ok(id.to_string())
}

/// Ends a care-team membership at `ends_at` (RFC 3339, default now). Admins and care
/// coordinators.
#[server(prefix = "/api", endpoint = "care-team/end")]
pub async fn end_care_team_membership(
    patient_id: PatientId,
    membership_id: String,
    ends_at: Option<String>,
) -> Result<(), AppError> {
    use crate::records;

    let (services, actor) = server::begin().await?;
    let membership_id = crate::identity::support::parse_id(&membership_id)?;
    let ends_at = server::instant_or_now(ends_at.as_deref())?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::require_care_team_manager(&mut conn, &actor, patient_id, Action::Write).await?;
    let access = server::management_context(&actor);
    records::end_care_team_membership(&mut conn, &access, patient_id, membership_id, ends_at)
        .await?;
    Ok(())
}

/// Lists every access to the signed-in patient's record, newest first.
#[server(prefix = "/api", endpoint = "portal/access-history")]
pub async fn my_access_history() -> Result<Vec<AccessHistoryItem>, AppError> {
    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::access_history(&services, &mut conn, &actor).await
}

/// Shows the clinic's permission table and break-glass rules. Admins.
#[server(prefix = "/api", endpoint = "access/settings")]
pub async fn access_settings() -> Result<AccessSettingsView, AppError> {
    use crate::access::settings;

    let (services, actor) = server::begin_as(&[Role::Admin]).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let stored = settings::load(&mut conn, actor.clinic).await?;
    Ok(AccessSettingsView {
        permissions: stored.permissions,
        auto_grant_critical: stored.auto_grant_critical,
        emergency_grant_minutes: stored.emergency_grant_minutes,
    })
}

/// Replaces the clinic's permission table and break-glass rules; audited with the old and new
/// values. Admins, after a recent passkey step-up.
#[server(prefix = "/api", endpoint = "access/settings/update")]
pub async fn update_access_settings(
    permissions: String,
    auto_grant_critical: bool,
    emergency_grant_minutes: i32,
) -> Result<(), AppError> {
    use crate::access::settings::{self, AccessSettings};
    use crate::identity::server::auth;

    let (services, actor) = server::begin_as(&[Role::Admin]).await?;
    auth::require_recent_step_up(&services).await?;
    let permissions: PermissionTable = serde_json::from_str(&permissions)
        .map_err(|_| AppError::invalid_input("The permission table could not be read."))?;
    let new = AccessSettings {
        permissions,
        auto_grant_critical,
        emergency_grant_minutes,
    };
    let mut conn = crate::db::connection(&services.pool).await?;
    settings::store(&mut conn, actor.clinic, actor.user, &new).await
}
