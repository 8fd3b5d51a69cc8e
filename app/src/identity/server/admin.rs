//! Account administration: invitations, role changes, deactivation and recovery.
use chrono::{NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::audit::{ClientInfo, SecurityEventKind};
use crate::error::AppError;
use crate::identity::api::support::timestamp;
use crate::identity::server::accounts::{self, AccountRow, NewAccount, UserStatus, internal};
use crate::identity::server::auth::SignedInUser;
use crate::identity::server::email::normalize_email;
use crate::identity::server::events::{self, Event};
use crate::identity::server::invitations::{self, InvitationPurpose};
use crate::identity::server::request::RequestMeta;
use crate::identity::{IssuedLink, Role};
use crate::ids::UserId;
use crate::records::{self, AccessContext, NewCareTeamMember, NewPatient, RecordKeys};
use crate::services::Services;

fn validate_display_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::invalid_input(
            "Enter a name of 1 to 200 characters.",
        ));
    }
    Ok(name.to_owned())
}

fn link(services: &Services, token: &str) -> String {
    format!(
        "{}/enroll#{token}",
        services.settings.public_url.trim_end_matches('/')
    )
}

/// Creates an invited account with `roles` in the inviter's clinic and returns its link.
pub async fn invite(
    services: &Services,
    inviter: &SignedInUser,
    display_name: &str,
    email: &str,
    roles: &[Role],
) -> Result<IssuedLink, AppError> {
    invite_account(services, inviter, display_name, email, roles, None).await
}

/// Creates a patient's account, her encrypted record linked to it, and the inviter's care-team
/// membership in her first care-team role, in one transaction, and returns the account's link.
pub async fn invite_patient(
    services: &Services,
    inviter: &SignedInUser,
    display_name: &str,
    email: &str,
    date_of_birth: NaiveDate,
) -> Result<IssuedLink, AppError> {
    let care_role = Role::ALL
        .into_iter()
        .find(|role| role.may_invite_patients() && inviter.has_role(*role))
        .ok_or_else(AppError::not_found)?;
    let today = Utc::now().date_naive();
    if date_of_birth > today || date_of_birth < today - chrono::Duration::days(365 * 120) {
        return Err(AppError::invalid_input(
            "Enter a date of birth in the past 120 years.",
        ));
    }
    let record = PatientRecord {
        date_of_birth,
        care_role,
    };
    invite_account(
        services,
        inviter,
        display_name,
        email,
        &[Role::Patient],
        Some(record),
    )
    .await
}

/// Details of an invited patient's new record.
struct PatientRecord {
    date_of_birth: NaiveDate,
    /// The inviter's role on the patient's care team.
    care_role: Role,
}

async fn invite_account(
    services: &Services,
    inviter: &SignedInUser,
    display_name: &str,
    email: &str,
    roles: &[Role],
    record: Option<PatientRecord>,
) -> Result<IssuedLink, AppError> {
    let display_name = validate_display_name(display_name)?;
    let email = normalize_email(email).map_err(AppError::invalid_input)?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let clinic_id = inviter.clinic_id;
    let inviter_id = inviter.id;
    let roles = roles.to_vec();

    let (user_id, issued) = connection
        .transaction::<_, AppError, _>(async move |connection| {
            let account = NewAccount {
                clinic_id,
                display_name: &display_name,
                email: &email,
                roles: &roles,
                granted_by: Some(inviter_id),
            };
            let user_id = accounts::create_user(
                connection,
                services.keys.as_ref(),
                &services.blind_index,
                account,
            )
            .await?;
            let issued = invitations::create(
                connection,
                clinic_id,
                user_id,
                InvitationPurpose::Enrollment,
                &roles,
                Some(inviter_id),
                services.settings.invitation_ttl,
            )
            .await
            .map_err(internal)?;
            let roles: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
            let event = Event {
                kind: SecurityEventKind::InvitationCreated,
                clinic_id,
                actor: Some(inviter_id),
                subject: Some(user_id),
                detail: serde_json::json!({ "invitation_id": issued.id, "roles": roles }),
            };
            events::record(connection, event).await?;
            if let Some(record) = record {
                create_patient_record(
                    services,
                    connection,
                    inviter,
                    user_id,
                    &display_name,
                    record,
                )
                .await?;
            }
            Ok((user_id, issued))
        })
        .await?;
    Ok(IssuedLink {
        user_id,
        link: link(services, &issued.token),
        expires_at: timestamp(issued.expires_at),
    })
}

/// Creates the invited patient's record, linked to her account, with the inviter on her care
/// team from now on. Both are recorded as accesses in the audit trail.
async fn create_patient_record(
    services: &Services,
    connection: &mut AsyncPgConnection,
    inviter: &SignedInUser,
    user_id: UserId,
    full_name: &str,
    record: PatientRecord,
) -> Result<(), AppError> {
    let meta = RequestMeta::current();
    let access = AccessContext {
        actor: inviter.id,
        actor_roles: inviter.roles.clone(),
        clinic_id: inviter.clinic_id,
        purpose: "patient invitation".to_owned(),
        emergency: false,
        client: ClientInfo {
            address: meta.address,
            user_agent: meta.user_agent,
            request_id: meta.request_id,
        },
    };
    let patient = NewPatient {
        user_id: Some(user_id),
        full_name: full_name.to_owned(),
        date_of_birth: record.date_of_birth,
        address: String::new(),
        phone: String::new(),
    };
    let keys = RecordKeys::from_services(services);
    let patient_id = records::create_patient(connection, keys, &access, &patient).await?;
    let member = NewCareTeamMember {
        provider: inviter.id,
        role: record.care_role,
        starts_at: Utc::now(),
        ends_at: None,
    };
    records::add_care_team_member(connection, &access, patient_id, &member).await?;
    Ok(())
}

/// Loads a user of the actor's clinic; users of other clinics are not found.
async fn clinic_user(
    connection: &mut AsyncPgConnection,
    actor: &SignedInUser,
    user_id: UserId,
) -> Result<AccountRow, AppError> {
    accounts::find_account(connection, user_id)
        .await
        .map_err(internal)?
        .filter(|account| account.clinic_id == actor.clinic_id)
        .ok_or_else(AppError::not_found)
}

pub async fn change_roles(
    services: &Services,
    actor: &SignedInUser,
    user_id: UserId,
    roles: &[Role],
) -> Result<(), AppError> {
    if roles.is_empty() {
        return Err(AppError::invalid_input(
            "A user needs at least one role. Deactivate the account instead.",
        ));
    }
    if roles.contains(&Role::Patient) {
        return Err(AppError::invalid_input(
            "The patient role cannot be combined with staff roles. Invite the person as a patient separately.",
        ));
    }
    if user_id == actor.id && !roles.contains(&Role::Admin) {
        return Err(AppError::invalid_input(
            "You cannot remove your own admin role. Ask another admin to do it.",
        ));
    }
    let mut connection = crate::db::connection(&services.pool).await?;
    let target = clinic_user(&mut connection, actor, user_id).await?;
    let actor_id = actor.id;
    let roles = roles.to_vec();
    connection
        .transaction::<_, AppError, _>(async move |connection| {
            let before = accounts::roles_of(connection, target.id, target.clinic_id)
                .await
                .map_err(internal)?;
            accounts::set_roles(
                connection,
                target.id,
                target.clinic_id,
                &roles,
                Some(actor_id),
            )
            .await
            .map_err(internal)?;
            // A change of privileges ends the user's sessions, so that she signs in again
            // with the new roles.
            accounts::end_all_sessions(connection, target.id)
                .await
                .map_err(internal)?;
            let names = |roles: &[Role]| roles.iter().map(|role| role.as_str()).collect::<Vec<_>>();
            let event = Event {
                kind: SecurityEventKind::RolesChanged,
                clinic_id: target.clinic_id,
                actor: Some(actor_id),
                subject: Some(target.id),
                detail: serde_json::json!({ "before": names(&before), "after": names(&roles) }),
            };
            events::record(connection, event).await
        })
        .await
}

pub async fn deactivate(
    services: &Services,
    actor: &SignedInUser,
    user_id: UserId,
) -> Result<(), AppError> {
    if user_id == actor.id {
        return Err(AppError::invalid_input(
            "You cannot deactivate your own account.",
        ));
    }
    let mut connection = crate::db::connection(&services.pool).await?;
    let target = clinic_user(&mut connection, actor, user_id).await?;
    let actor_id = actor.id;
    connection
        .transaction::<_, AppError, _>(async move |connection| {
                accounts::set_status(connection, target.id, UserStatus::Deactivated)
                    .await
                    .map_err(internal)?;
                let ended = accounts::end_all_sessions(connection, target.id).await.map_err(internal)?;
                let revoked = invitations::revoke_open_for_user(connection, target.id).await.map_err(internal)?;
                let event = Event {
                    kind: SecurityEventKind::UserDeactivated,
                    clinic_id: target.clinic_id,
                    actor: Some(actor_id),
                    subject: Some(target.id),
                    detail: serde_json::json!({ "sessions_ended": ended, "invitations_revoked": revoked }),
                };
                events::record(connection, event).await
            })
        .await
}

pub async fn end_sessions(
    services: &Services,
    actor: &SignedInUser,
    user_id: UserId,
) -> Result<usize, AppError> {
    let mut connection = crate::db::connection(&services.pool).await?;
    let target = clinic_user(&mut connection, actor, user_id).await?;
    let actor_id = actor.id;
    connection
        .transaction::<_, AppError, _>(async move |connection| {
            let ended = accounts::end_all_sessions(connection, target.id)
                .await
                .map_err(internal)?;
            let event = Event {
                kind: SecurityEventKind::SessionEnded,
                clinic_id: target.clinic_id,
                actor: Some(actor_id),
                subject: Some(target.id),
                detail: serde_json::json!({ "reason": "ended_by_admin", "sessions_ended": ended }),
            };
            events::record(connection, event).await?;
            Ok(ended)
        })
        .await
}

/// Issues a recovery link: admins for staff, clinicians and care coordinators for patients.
/// Open invitations of the user are revoked first, so only the newest link works.
pub async fn reissue(
    services: &Services,
    actor: &SignedInUser,
    user_id: UserId,
) -> Result<IssuedLink, AppError> {
    let mut connection = crate::db::connection(&services.pool).await?;
    let target = clinic_user(&mut connection, actor, user_id).await?;
    let roles = accounts::roles_of(&mut connection, target.id, target.clinic_id)
        .await
        .map_err(internal)?;
    // Only an account that is a patient and nothing else may be recovered by her own care team;
    // any staff role makes it an admin's decision.
    let is_patient_only = !roles.is_empty() && roles.iter().all(|role| *role == Role::Patient);
    let allowed = if is_patient_only {
        actor.roles.iter().any(|role| role.may_invite_patients())
            && crate::records::provider_cares_for_account(
                &mut connection,
                target.clinic_id,
                target.id,
                actor.id,
            )
            .await
            .map_err(internal)?
    } else {
        actor.has_role(Role::Admin)
    };
    if !allowed || target.status == UserStatus::Deactivated {
        return Err(AppError::not_found());
    }

    issue_link(services, &mut connection, &target, &roles, Some(actor.id)).await
}

/// Issues a new link for the account with `email`, for an operator at the server's command line:
/// the way back in for a clinic whose only admin lost every passkey.
pub async fn reissue_by_operator(services: &Services, email: &str) -> Result<IssuedLink, AppError> {
    let email = normalize_email(email).map_err(AppError::invalid_input)?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let target = accounts::find_by_email(&mut connection, &services.blind_index, &email)
        .await
        .map_err(internal)?
        .filter(|account| account.status != UserStatus::Deactivated)
        .ok_or_else(|| {
            AppError::new(
                crate::error::ErrorCode::NotFound,
                "No active account has this email.",
            )
        })?;
    let roles = accounts::roles_of(&mut connection, target.id, target.clinic_id)
        .await
        .map_err(internal)?;
    issue_link(services, &mut connection, &target, &roles, None).await
}

/// Revokes the user's open invitations and creates a new one: an enrollment link for an
/// account that never enrolled, a recovery link otherwise.
async fn issue_link(
    services: &Services,
    connection: &mut AsyncPgConnection,
    target: &AccountRow,
    roles: &[Role],
    actor: Option<UserId>,
) -> Result<IssuedLink, AppError> {
    let target = target.clone();
    let roles = roles.to_vec();
    let issued = connection
        .transaction::<_, AppError, _>(async move |connection| {
            let revoked = invitations::revoke_open_for_user(connection, target.id)
                .await
                .map_err(internal)?;
            let purpose = if target.status == UserStatus::Invited {
                InvitationPurpose::Enrollment
            } else {
                InvitationPurpose::Recovery
            };
            let issued = invitations::create(
                connection,
                target.clinic_id,
                target.id,
                purpose,
                &roles,
                actor,
                services.settings.invitation_ttl,
            )
            .await
            .map_err(internal)?;
            let event = Event {
                kind: SecurityEventKind::InvitationCreated,
                clinic_id: target.clinic_id,
                actor,
                subject: Some(target.id),
                detail: serde_json::json!({
                    "invitation_id": issued.id,
                    "purpose": purpose.as_str(),
                    "invitations_revoked": revoked,
                }),
            };
            events::record(connection, event).await?;
            Ok(issued)
        })
        .await?;
    Ok(IssuedLink {
        user_id: target.id,
        link: link(services, &issued.token),
        expires_at: timestamp(issued.expires_at),
    })
}

/// Creates the clinic if missing and its first admin, and returns the admin's enrollment link.
/// Used by the server's `create-admin` command to bootstrap an installation.
pub async fn bootstrap_admin(
    services: &Services,
    clinic_slug: &str,
    clinic_name: &str,
    display_name: &str,
    email: &str,
) -> Result<IssuedLink, AppError> {
    let display_name = validate_display_name(display_name)?;
    let email = normalize_email(email).map_err(AppError::invalid_input)?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let clinic_slug = clinic_slug.to_owned();
    let clinic_name = clinic_name.trim().to_owned();
    let (user_id, issued) = connection
        .transaction::<_, AppError, _>(async move |connection| {
                let clinic_id = accounts::ensure_clinic(connection, &clinic_slug, &clinic_name)
                    .await
                    .map_err(|error| {
                        tracing::warn!(%error, "clinic could not be created");
                        AppError::invalid_input(
                            "The clinic slug must be 2 to 63 lower-case letters, digits or hyphens, and the name 1 to 200 characters.",
                        )
                    })?;
                let account = NewAccount {
                    clinic_id,
                    display_name: &display_name,
                    email: &email,
                    roles: &[Role::Admin],
                    granted_by: None,
                };
                let user_id =
                    accounts::create_user(connection, services.keys.as_ref(), &services.blind_index, account).await?;
                let issued = invitations::create(
                    connection,
                    clinic_id,
                    user_id,
                    InvitationPurpose::Enrollment,
                    &[Role::Admin],
                    None,
                    services.settings.invitation_ttl,
                )
                .await
                .map_err(internal)?;
                let event = Event {
                    kind: SecurityEventKind::InvitationCreated,
                    clinic_id,
                    actor: None,
                    subject: Some(user_id),
                    detail: serde_json::json!({ "invitation_id": issued.id, "roles": ["admin"], "bootstrap": true }),
                };
                events::record(connection, event).await?;
                Ok((user_id, issued))
            })
        .await?;
    Ok(IssuedLink {
        user_id,
        link: link(services, &issued.token),
        expires_at: timestamp(issued.expires_at),
    })
}
