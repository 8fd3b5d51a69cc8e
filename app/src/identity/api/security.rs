//! The security page: passkeys, sessions and step-up.

use leptos::prelude::*;

use crate::error::AppError;
use crate::identity::{CeremonyOptions, PasskeySummary, SessionSummary};

/// Lists the signed-in user's passkeys, oldest first.
#[server(prefix = "/api", endpoint = "identity/passkeys")]
pub async fn list_passkeys() -> Result<Vec<PasskeySummary>, AppError> {
    use crate::identity::api::support::timestamp;
    use crate::identity::server::{auth, passkeys};

    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let listings = passkeys::list(&mut connection, user.id).await?;
    Ok(listings
        .into_iter()
        .map(|listing| PasskeySummary {
            id: listing.id.to_string(),
            name: listing.name,
            created_at: timestamp(listing.created_at),
            last_used_at: listing.last_used_at.map(timestamp),
            backed_up: listing.backed_up,
        })
        .collect())
}

/// Starts registering another passkey for the signed-in user, after a recent step-up, so that a
/// stolen session cannot plant a passkey of its own.
#[server(prefix = "/api", endpoint = "identity/passkeys/begin")]
pub async fn begin_add_passkey() -> Result<CeremonyOptions, AppError> {
    use crate::identity::server::{auth, sign_in};

    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    auth::require_recent_step_up(&services).await?;
    let start = sign_in::begin_add_passkey(&services, user.id).await?;
    crate::identity::api::support::ceremony_options(start)
}

/// Stores another passkey for the signed-in user.
#[server(prefix = "/api", endpoint = "identity/passkeys/finish")]
pub async fn finish_add_passkey(
    ceremony_id: String,
    credential: String,
    passkey_name: String,
) -> Result<(), AppError> {
    use crate::identity::api::support;
    use crate::identity::server::{auth, sign_in};

    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    let ceremony_id = support::parse_id(&ceremony_id)?;
    sign_in::finish_add_passkey(
        &services,
        user.id,
        user.clinic_id,
        ceremony_id,
        &credential,
        &passkey_name,
    )
    .await?;
    Ok(())
}

/// Renames one of the signed-in user's passkeys.
#[server(prefix = "/api", endpoint = "identity/passkeys/rename")]
pub async fn rename_passkey(passkey_id: String, name: String) -> Result<(), AppError> {
    use crate::identity::api::support;
    use crate::identity::server::{auth, passkeys};

    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    let passkey_id = support::parse_id(&passkey_id)?;
    let name = passkeys::validate_name(&name)?;
    let mut connection = crate::db::connection(&services.pool).await?;
    passkeys::rename(&mut connection, user.id, passkey_id, &name).await
}

/// Removes one of the signed-in user's passkeys, unless it is her last, after a recent step-up.
#[server(prefix = "/api", endpoint = "identity/passkeys/remove")]
pub async fn remove_passkey(passkey_id: String) -> Result<(), AppError> {
    use crate::audit::SecurityEventKind;
    use crate::identity::api::support;
    use crate::identity::server::events::{self, Event};
    use crate::identity::server::{auth, passkeys};
    use diesel_async::AsyncConnection;

    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    auth::require_recent_step_up(&services).await?;
    let passkey_id = support::parse_id(&passkey_id)?;
    let mut connection = crate::db::connection(&services.pool).await?;
    connection
        .transaction::<_, AppError, _>(async move |connection| {
            passkeys::remove(connection, user.id, passkey_id).await?;
            let event = Event {
                kind: SecurityEventKind::PasskeyRemoved,
                clinic_id: user.clinic_id,
                actor: Some(user.id),
                subject: Some(user.id),
                detail: serde_json::json!({ "passkey_id": passkey_id }),
            };
            events::record(connection, event).await
        })
        .await
}

/// Lists the signed-in user's live sessions, most recently used first.
#[server(prefix = "/api", endpoint = "identity/sessions")]
pub async fn list_sessions() -> Result<Vec<SessionSummary>, AppError> {
    use crate::identity::server::{auth, sessions};

    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    let current = auth::session().await?.id().map(|id| id.to_string());
    let mut connection = crate::db::connection(&services.pool).await?;
    sessions::list(&mut connection, user.id, current.as_deref()).await
}

/// Ends one of the signed-in user's sessions, named by its handle.
#[server(prefix = "/api", endpoint = "identity/sessions/end")]
pub async fn end_session(handle: String) -> Result<(), AppError> {
    use crate::identity::server::{auth, sessions};

    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    let mut connection = crate::db::connection(&services.pool).await?;
    sessions::end_by_handle(&mut connection, &user, handle.trim()).await?;
    let session = auth::session().await?;
    if let Some(id) = session.id()
        && sessions::handle_of(&id.to_string()) == handle.trim()
    {
        session
            .flush()
            .await
            .map_err(crate::identity::server::accounts::internal)?;
    }
    Ok(())
}

/// Starts a step-up: a fresh passkey assertion before a sensitive action.
#[server(prefix = "/api", endpoint = "identity/step-up/begin")]
pub async fn begin_step_up() -> Result<CeremonyOptions, AppError> {
    use crate::identity::server::{auth, sign_in};

    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    let start = sign_in::begin_step_up(&services, user.id).await?;
    crate::identity::api::support::ceremony_options(start)
}

/// Finishes a step-up; sensitive actions are then allowed for a few minutes.
#[server(prefix = "/api", endpoint = "identity/step-up/finish")]
pub async fn finish_step_up(ceremony_id: String, credential: String) -> Result<(), AppError> {
    use crate::identity::api::support;
    use crate::identity::server::{auth, sign_in};

    let services = crate::services::services()?;
    let user = auth::require_user(&services).await?;
    let ceremony_id = support::parse_id(&ceremony_id).map_err(|_| sign_in::sign_in_failed())?;
    sign_in::finish_step_up(&services, user.id, ceremony_id, &credential).await?;
    auth::mark_step_up(&auth::session().await?).await
}
