//! Managing the clinic's users: invitations, roles, deactivation and recovery links.

use leptos::prelude::*;

use crate::error::AppError;
use crate::identity::{IssuedLink, Role, UserSummary};
use crate::ids::UserId;

/// Lists every user of the admin's clinic, oldest first.
#[server(prefix = "/api", endpoint = "admin/users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    use crate::identity::server::{accounts, auth};

    let services = crate::services::services()?;
    let admin = auth::require_any_role(&services, &[Role::Admin]).await?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let rows = accounts::list_clinic_users(&mut connection, admin.clinic_id)
        .await
        .map_err(accounts::internal)?;
    let mut users = Vec::with_capacity(rows.len());
    for row in rows {
        let profile =
            accounts::load_profile(&mut connection, services.keys.as_ref(), row.id).await?;
        let roles = accounts::roles_of(&mut connection, row.id, admin.clinic_id)
            .await
            .map_err(accounts::internal)?;
        users.push(UserSummary {
            id: row.id,
            display_name: profile.display_name,
            email: profile.email,
            roles,
            status: row.status.as_str().to_owned(),
        });
    }
    Ok(users)
}

/// Creates a staff account with `roles` and returns its enrollment link. Admins only, after a
/// recent passkey step-up.
#[server(prefix = "/api", endpoint = "admin/users/invite")]
pub async fn invite_staff(
    display_name: String,
    email: String,
    roles: Vec<Role>,
) -> Result<IssuedLink, AppError> {
    use crate::identity::server::{admin, auth};

    let services = crate::services::services()?;
    let inviter = auth::require_any_role(&services, &[Role::Admin]).await?;
    auth::require_recent_step_up(&services).await?;
    if roles.is_empty() || roles.contains(&Role::Patient) {
        return Err(AppError::invalid_input(
            "Choose at least one staff role. Patients are invited from the clinician area.",
        ));
    }
    admin::invite(&services, &inviter, &display_name, &email, &roles).await
}

/// Creates a patient account with her encrypted record and returns her enrollment link; the
/// inviter joins her care team. Clinicians and care coordinators. `date_of_birth` is
/// `YYYY-MM-DD`.
#[server(prefix = "/api", endpoint = "patients/invite")]
pub async fn invite_patient(
    display_name: String,
    email: String,
    date_of_birth: String,
) -> Result<IssuedLink, AppError> {
    use crate::identity::server::{admin, auth};

    let services = crate::services::services()?;
    let inviter = auth::require_user(&services).await?;
    if !inviter.roles.iter().any(|role| role.may_invite_patients()) {
        return Err(AppError::not_found());
    }
    let date_of_birth = chrono::NaiveDate::parse_from_str(date_of_birth.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid_input("Enter the date of birth as YYYY-MM-DD."))?;
    admin::invite_patient(&services, &inviter, &display_name, &email, date_of_birth).await
}

/// Replaces a user's roles. Admins only, after a recent passkey step-up.
#[server(prefix = "/api", endpoint = "admin/users/roles")]
pub async fn change_roles(user_id: UserId, roles: Vec<Role>) -> Result<(), AppError> {
    use crate::identity::server::{admin, auth};

    let services = crate::services::services()?;
    let actor = auth::require_any_role(&services, &[Role::Admin]).await?;
    auth::require_recent_step_up(&services).await?;
    admin::change_roles(&services, &actor, user_id, &roles).await
}

/// Deactivates a user and ends all her sessions at once. Admins only, after a recent step-up.
#[server(prefix = "/api", endpoint = "admin/users/deactivate")]
pub async fn deactivate_user(user_id: UserId) -> Result<(), AppError> {
    use crate::identity::server::{admin, auth};

    let services = crate::services::services()?;
    let actor = auth::require_any_role(&services, &[Role::Admin]).await?;
    auth::require_recent_step_up(&services).await?;
    admin::deactivate(&services, &actor, user_id).await
}

/// Ends every session of a user. Admins only.
#[server(prefix = "/api", endpoint = "admin/users/end-sessions")]
pub async fn end_user_sessions(user_id: UserId) -> Result<usize, AppError> {
    use crate::identity::server::{admin, auth};

    let services = crate::services::services()?;
    let actor = auth::require_any_role(&services, &[Role::Admin]).await?;
    admin::end_sessions(&services, &actor, user_id).await
}

/// Issues a new enrollment link for a user who lost her passkeys; using it ends her sessions.
/// Admins issue links for staff; clinicians and care coordinators for patients. Requires a
/// recent step-up, because the link lets its holder into the account.
#[server(prefix = "/api", endpoint = "users/recovery-link")]
pub async fn reissue_enrollment(user_id: UserId) -> Result<IssuedLink, AppError> {
    use crate::identity::server::{admin, auth};

    let services = crate::services::services()?;
    let actor = auth::require_user(&services).await?;
    auth::require_recent_step_up(&services).await?;
    admin::reissue(&services, &actor, user_id).await
}

/// Security alerts of the admin's clinic, newest first. Admins only.
#[server(prefix = "/api", endpoint = "admin/security-alerts")]
pub async fn list_security_alerts() -> Result<Vec<crate::identity::SecurityAlert>, AppError> {
    use crate::identity::server::{alerts, auth};

    let services = crate::services::services()?;
    let admin = auth::require_any_role(&services, &[Role::Admin]).await?;
    let mut connection = crate::db::connection(&services.pool).await?;
    alerts::recent(&services, &mut connection, admin.clinic_id).await
}
