//! Enrollment from an invitation link.

use leptos::prelude::*;

use crate::error::AppError;
use crate::identity::{Account, CeremonyOptions, InvitationDetails};

/// Shows whom an invitation is for, or why it can no longer be used.
#[server(prefix = "/api", endpoint = "identity/invitation")]
pub async fn get_invitation(token: String) -> Result<InvitationDetails, AppError> {
    use crate::identity::api::support;
    use crate::identity::server::accounts::{self, internal};
    use crate::identity::server::invitations::InvitationPurpose;
    use crate::identity::server::sign_in;

    let services = crate::services::services()?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let invitation = sign_in::open_invitation(&mut connection, token.trim()).await?;
    let profile =
        accounts::load_profile(&mut connection, services.keys.as_ref(), invitation.user_id).await?;
    let clinic_name = accounts::clinic_name(&mut connection, invitation.clinic_id)
        .await
        .map_err(internal)?;
    Ok(InvitationDetails {
        display_name: profile.display_name,
        clinic_name,
        recovery: invitation.purpose == InvitationPurpose::Recovery,
        expires_at: support::timestamp(invitation.expires_at),
    })
}

/// Starts creating the first passkey of an invited account.
#[server(prefix = "/api", endpoint = "identity/enroll/begin")]
pub async fn begin_enrollment(token: String) -> Result<CeremonyOptions, AppError> {
    let services = crate::services::services()?;
    let start = crate::identity::server::sign_in::begin_enrollment(&services, token.trim()).await?;
    crate::identity::api::support::ceremony_options(start)
}

/// Stores the new passkey, uses up the invitation and signs the user in.
#[server(prefix = "/api", endpoint = "identity/enroll/finish")]
pub async fn finish_enrollment(
    ceremony_id: String,
    credential: String,
    passkey_name: String,
) -> Result<Account, AppError> {
    use crate::identity::api::support;
    use crate::identity::server::request::RequestMeta;
    use crate::identity::server::{auth, sign_in};

    let services = crate::services::services()?;
    let ceremony_id = support::parse_id(&ceremony_id)?;
    let user_id =
        sign_in::finish_enrollment(&services, ceremony_id, &credential, &passkey_name).await?;
    let session = auth::session().await?;
    auth::sign_in(
        &session,
        user_id,
        RequestMeta::current().user_agent.as_deref(),
    )
    .await?;
    support::account(&services, user_id).await
}
