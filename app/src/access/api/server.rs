//! Server-side parts of the access server functions.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::{AccessHistoryItem, EmergencyView, MembershipView};
use crate::access::emergency::EmergencyAccess;
use crate::access::{Action, Actor, DataCategory, EmergencyLevel, EmergencyStatus, gate, guard};
use crate::audit::{HistoryPage, patient_access_history};
use crate::chart::PORTAL_PURPOSE;
use crate::error::AppError;
use crate::identity::Role;
use crate::identity::server::{accounts, auth};
use crate::identity::support::timestamp;
use crate::ids::{PatientId, UserId};
use crate::records::{self, AccessContext, CareTeamMember, NewCareTeamMember};
use crate::services::Services;

/// Roles that add and end care-team memberships.
pub const CARE_TEAM_MANAGERS: &[Role] = &[Role::Admin, Role::CareCoordinator];

/// Purpose recorded for care-team management.
const CARE_TEAM_PURPOSE: &str = "care team management";

/// Number of events the access history shows.
const HISTORY_EVENTS: u32 = 500;

/// Returns the services and the signed-in actor, or 401.
pub async fn begin() -> Result<(Arc<Services>, Actor), AppError> {
    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    Ok((services, Actor::from_signed_in(&user)))
}

/// Like [`begin`], for a user with one of `roles`; anyone else gets "not found".
pub async fn begin_as(roles: &[Role]) -> Result<(Arc<Services>, Actor), AppError> {
    let services = crate::services::services()?;
    let user = auth::require_any_role(&services, roles).await?;
    Ok((services, Actor::from_signed_in(&user)))
}

/// Checks that `actor` manages care teams and that `patient` is of her clinic; a refusal is
/// audited.
pub async fn require_care_team_manager(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient: PatientId,
    action: Action,
) -> Result<(), AppError> {
    let purpose = CARE_TEAM_PURPOSE;
    gate::require_roles(
        conn,
        actor,
        CARE_TEAM_MANAGERS,
        Some(patient),
        action,
        purpose,
    )
    .await?;
    gate::require_clinic_patient(conn, actor, patient, action, purpose).await
}

/// Checks that `actor` has one of `roles` before she lists break-glass requests, and records
/// the listing. A refusal is audited.
pub async fn open_emergency_list(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    roles: &[Role],
) -> Result<(), AppError> {
    let purpose = crate::access::emergency::PURPOSE;
    gate::require_roles(conn, actor, roles, None, Action::Read, purpose).await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        gate::record_use(
            conn,
            actor,
            None,
            Action::Read,
            purpose,
            "emergency_access.list",
        )
        .await
    })
    .await
}

/// Returns the audit context of a care-team manager.
pub fn management_context(actor: &Actor) -> AccessContext {
    AccessContext {
        actor: actor.user,
        actor_roles: actor.roles.clone(),
        clinic_id: actor.clinic,
        purpose: CARE_TEAM_PURPOSE.to_owned(),
        emergency: false,
        client: actor.client.clone(),
    }
}

/// Parses an RFC 3339 instant, or returns now when there is none.
pub fn instant_or_now(text: Option<&str>) -> Result<DateTime<Utc>, AppError> {
    match text.map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(Utc::now()),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|instant| instant.with_timezone(&Utc))
            .map_err(|_| {
                AppError::invalid_input("Give times as RFC 3339, such as 2026-12-05T09:00:00Z.")
            }),
    }
}

/// Adds a membership after checking that the provider is an active user of the clinic who
/// holds the role.
pub async fn add_membership(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    patient_id: PatientId,
    provider: UserId,
    role: Role,
    starts_at: Option<String>,
    ends_at: Option<String>,
) -> Result<uuid::Uuid, AppError> {
    let starts_at = instant_or_now(starts_at.as_deref())?;
    let ends_at = match ends_at
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        None => None,
        Some(text) => Some(instant_or_now(Some(text))?),
    };
    let account = accounts::find_account(conn, provider)
        .await
        .map_err(accounts::internal)?
        .filter(|account| account.clinic_id == actor.clinic);
    let Some(account) = account else {
        return Err(AppError::invalid_input("Choose a provider of your clinic."));
    };
    let roles = accounts::roles_of(conn, provider, account.clinic_id)
        .await
        .map_err(accounts::internal)?;
    if !roles.contains(&role) {
        return Err(AppError::invalid_input(
            "The provider does not hold the role chosen for the care team.",
        ));
    }

    let new = NewCareTeamMember {
        provider,
        role,
        starts_at,
        ends_at,
    };
    let access = management_context(actor);
    Ok(records::add_care_team_member(conn, &access, patient_id, &new).await?)
}

/// Display names of users, decrypted once each.
struct Names<'a> {
    services: &'a Services,
    known: HashMap<UserId, String>,
}

impl<'a> Names<'a> {
    fn new(services: &'a Services) -> Self {
        Self {
            services,
            known: HashMap::new(),
        }
    }

    async fn of(&mut self, conn: &mut AsyncPgConnection, user: UserId) -> Result<String, AppError> {
        if let Some(name) = self.known.get(&user) {
            return Ok(name.clone());
        }
        let profile = accounts::load_profile(conn, self.services.keys.as_ref(), user).await?;
        self.known.insert(user, profile.display_name.clone());
        Ok(profile.display_name)
    }
}

pub async fn emergency_view(
    services: &Services,
    conn: &mut AsyncPgConnection,
    row: EmergencyAccess,
) -> Result<EmergencyView, AppError> {
    let mut names = Names::new(services);
    to_view(&mut names, conn, row).await
}

pub async fn emergency_views(
    services: &Services,
    conn: &mut AsyncPgConnection,
    rows: Vec<EmergencyAccess>,
) -> Result<Vec<EmergencyView>, AppError> {
    let mut names = Names::new(services);
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        views.push(to_view(&mut names, conn, row).await?);
    }
    Ok(views)
}

async fn to_view(
    names: &mut Names<'_>,
    conn: &mut AsyncPgConnection,
    row: EmergencyAccess,
) -> Result<EmergencyView, AppError> {
    let requester = UserId(row.requester_user_id);
    let corrupt = || {
        tracing::error!(id = %row.id, "emergency access row holds an unknown level or status");
        AppError::internal()
    };
    Ok(EmergencyView {
        id: row.id.to_string(),
        patient_id: PatientId(row.patient_id),
        requester,
        requester_name: names.of(conn, requester).await?,
        level: EmergencyLevel::parse(&row.level).ok_or_else(corrupt)?,
        justification: row.justification.clone(),
        status: EmergencyStatus::parse(&row.status).ok_or_else(corrupt)?,
        requested_at: timestamp(row.requested_at),
        decided_at: row.decided_at.map(timestamp),
        decision_reason: row.decision_reason,
        granted_at: row.granted_at.map(timestamp),
        expires_at: row.expires_at.map(timestamp),
        reviewed_at: row.reviewed_at.map(timestamp),
        review_note: row.review_note,
    })
}

pub async fn membership_views(
    services: &Services,
    conn: &mut AsyncPgConnection,
    members: Vec<CareTeamMember>,
) -> Result<Vec<MembershipView>, AppError> {
    let now = Utc::now();
    let mut names = Names::new(services);
    let mut views = Vec::with_capacity(members.len());
    for member in members {
        views.push(MembershipView {
            id: member.id.to_string(),
            provider: member.provider,
            provider_name: names.of(conn, member.provider).await?,
            role: member.role,
            starts_at: timestamp(member.starts_at),
            ends_at: member.ends_at.map(timestamp),
            active: member.starts_at <= now && member.ends_at.is_none_or(|end| now < end),
        });
    }
    Ok(views)
}

/// Authorizes the patient's view of her own access history, records it, and lists the events.
pub async fn access_history(
    services: &Services,
    conn: &mut AsyncPgConnection,
    actor: &Actor,
) -> Result<Vec<AccessHistoryItem>, AppError> {
    let patient = records::patient_of_account(conn, actor.clinic, actor.user)
        .await?
        .ok_or_else(AppError::not_found)?;
    let authorization = guard::authorize(
        conn,
        actor,
        patient,
        DataCategory::CareLogistics,
        Action::Read,
        PORTAL_PURPOSE,
    )
    .await?;
    guard::record_allowed(conn, &authorization, vec!["access_history".to_owned()]).await?;

    let page = HistoryPage {
        limit: HISTORY_EVENTS,
        before: None,
    };
    let events = patient_access_history(conn, patient, page)
        .await
        .map_err(accounts::internal)?;
    let mut names = Names::new(services);
    let mut items = Vec::with_capacity(events.len());
    for event in events {
        let who = match event.actor_user_id {
            Some(user) => names.of(conn, user).await?,
            None => "Nurture".to_owned(),
        };
        items.push(AccessHistoryItem {
            occurred_at: timestamp(event.occurred_at),
            who,
            roles: event
                .actor_roles
                .iter()
                .map(|role| Role::parse(role).map_or(role.clone(), |role| role.label().to_owned()))
                .collect(),
            action: event.action.as_str().to_owned(),
            data: data_labels(&event.data_elements),
            purpose: event.purpose,
            emergency: event.emergency,
            allowed: event.outcome == crate::audit::AccessOutcome::Allowed,
        });
    }
    Ok(items)
}

/// Describes audited data elements in words, one label per kind of data.
fn data_labels(elements: &[String]) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for element in elements {
        let label = element_category(element).map_or_else(
            || "Access history".to_owned(),
            |category| category.label().to_owned(),
        );
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels
}

fn element_category(element: &str) -> Option<DataCategory> {
    let suffix = element.rsplit('.').next().unwrap_or(element);
    let by_class = match suffix {
        "maternal" => Some(DataCategory::Maternal),
        "infant" => Some(DataCategory::Infant),
        "mental_health" => Some(DataCategory::MentalHealth),
        "family_history" => Some(DataCategory::FamilyHistory),
        "contact" => Some(DataCategory::Contact),
        "care_logistics" => Some(DataCategory::CareLogistics),
        _ => None,
    };
    if by_class.is_some() {
        return by_class;
    }
    if element.starts_with("patient.") {
        return Some(DataCategory::Contact);
    }
    if element.starts_with("infant.") {
        return Some(DataCategory::Infant);
    }
    let logistics = ["care_team", "appointment", "data_exports"].contains(&element)
        || element.starts_with("emergency_access.");
    if logistics {
        return Some(DataCategory::CareLogistics);
    }
    element.strip_prefix("observation.").map(|kind| match kind {
        "epds" | "phq9" | "gad7" => DataCategory::MentalHealth,
        "length" | "head_circumference" | "feeding" | "nappy" => DataCategory::Infant,
        _ => DataCategory::Maternal,
    })
}
