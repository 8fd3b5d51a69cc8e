//! Signing in and out.

use leptos::prelude::*;

use crate::error::AppError;
use crate::identity::{Account, CeremonyOptions};

/// Returns the signed-in user, or `None`.
#[server(prefix = "/api", endpoint = "identity/account")]
pub async fn current_account() -> Result<Option<Account>, AppError> {
    use crate::identity::api::support;
    use crate::identity::server::auth;

    let services = crate::services::services()?;
    match auth::current_user(&services).await? {
        Some(user) => Ok(Some(support::account_of(&services, user).await?)),
        None => Ok(None),
    }
}

/// Starts a passkey sign-in. `email` is optional: without it, any passkey of any account may
/// respond.
#[server(prefix = "/api", endpoint = "identity/sign-in/begin")]
pub async fn begin_sign_in(email: Option<String>) -> Result<CeremonyOptions, AppError> {
    let services = crate::services::services()?;
    let start =
        crate::identity::server::sign_in::begin_sign_in(&services, email.as_deref()).await?;
    crate::identity::api::support::ceremony_options(start)
}

/// Finishes a passkey sign-in and starts a session under a new session id.
#[server(prefix = "/api", endpoint = "identity/sign-in/finish")]
pub async fn finish_sign_in(ceremony_id: String, credential: String) -> Result<Account, AppError> {
    use crate::audit::SecurityEventKind;
    use crate::identity::api::support;
    use crate::identity::server::events::{self, Event};
    use crate::identity::server::request::RequestMeta;
    use crate::identity::server::{accounts, auth, sign_in};

    let services = crate::services::services()?;
    let ceremony_id = support::parse_id(&ceremony_id).map_err(|_| sign_in::sign_in_failed())?;
    let user_id = sign_in::finish_sign_in(&services, ceremony_id, &credential).await?;

    let session = auth::session().await?;
    auth::sign_in(
        &session,
        user_id,
        RequestMeta::current().user_agent.as_deref(),
    )
    .await?;
    let mut connection = crate::db::connection(&services.pool).await?;
    let account = accounts::find_account(&mut connection, user_id)
        .await
        .map_err(accounts::internal)?
        .ok_or_else(sign_in::sign_in_failed)?;
    let event = Event {
        kind: SecurityEventKind::SignInSucceeded,
        clinic_id: account.clinic_id,
        actor: Some(user_id),
        subject: Some(user_id),
        detail: serde_json::json!({}),
    };
    events::record_alone(&mut connection, event).await?;
    support::account(&services, user_id).await
}

/// Ends the current session.
#[server(prefix = "/api", endpoint = "identity/sign-out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::audit::SecurityEventKind;
    use crate::identity::server::accounts::internal;
    use crate::identity::server::auth;
    use crate::identity::server::events::{self, Event};

    let services = crate::services::services()?;
    let user = auth::current_user(&services).await?;
    auth::session().await?.flush().await.map_err(internal)?;
    if let Some(user) = user {
        let mut connection = crate::db::connection(&services.pool).await?;
        let event = Event {
            kind: SecurityEventKind::SessionEnded,
            clinic_id: user.clinic_id,
            actor: Some(user.id),
            subject: Some(user.id),
            detail: serde_json::json!({ "reason": "signed_out" }),
        };
        events::record_alone(&mut connection, event).await?;
    }
    Ok(())
}
