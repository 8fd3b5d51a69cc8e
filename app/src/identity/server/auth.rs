//! The signed-in user of a request: session keys, idle and absolute timeouts, and step-up.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use leptos::prelude::use_context;
use tower_sessions::Session;

use crate::error::{AppError, ErrorCode};
use crate::identity::Role;
use crate::identity::server::accounts::{self, SealedName, UserStatus, internal};
use crate::identity::server::session_store::{USER_AGENT_KEY, USER_ID_KEY};
use crate::ids::{ClinicId, UserId};
use crate::services::Services;

const SIGNED_IN_AT_KEY: &str = "signed_in_at";
const LAST_SEEN_KEY: &str = "last_seen";
const STEP_UP_AT_KEY: &str = "step_up_at";

/// How often an active session's idle deadline is pushed back; between two pushes a session is
/// not rewritten, so the idle timeout is enforced to within this interval.
const LAST_SEEN_GRANULARITY_SECS: i64 = 60;

/// A user with a live session and an active account.
#[derive(Debug, Clone)]
pub struct SignedInUser {
    pub id: UserId,
    pub clinic_id: ClinicId,
    pub roles: Vec<Role>,
    /// Her display name and clinic's name for the header, read with the account.
    pub name: SealedName,
}

impl SignedInUser {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has_role(*role))
    }
}

/// Returns the session of the current request.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|error| {
        tracing::error!(%error, "no session layer around server functions");
        AppError::internal()
    })
}

/// Starts a signed-in session for `user_id` under a new session id, so that a session id
/// learned before sign-in is useless after it.
pub async fn sign_in(
    session: &Session,
    user_id: UserId,
    user_agent: Option<&str>,
) -> Result<(), AppError> {
    RequestUser::forget_current().await;
    session.cycle_id().await.map_err(internal)?;
    session.clear().await;
    let now = Utc::now().timestamp();
    session
        .insert(USER_ID_KEY, user_id)
        .await
        .map_err(internal)?;
    session
        .insert(SIGNED_IN_AT_KEY, now)
        .await
        .map_err(internal)?;
    session.insert(LAST_SEEN_KEY, now).await.map_err(internal)?;
    session
        .insert(STEP_UP_AT_KEY, now)
        .await
        .map_err(internal)?;
    if let Some(agent) = user_agent {
        session
            .insert(USER_AGENT_KEY, agent)
            .await
            .map_err(internal)?;
    }
    Ok(())
}

/// The signed-in user of one request once looked up, so that the parts of a page rendered in
/// one request (its header, its data) share one lookup. The router provides a new one as
/// context for each request. The parts of a page load concurrently, so the first lookup keeps
/// the lock and the others wait for its result.
#[derive(Clone, Default)]
pub struct RequestUser(Arc<tokio::sync::Mutex<Option<Option<SignedInUser>>>>);

impl RequestUser {
    /// Forgets the user of the current request, after its session has changed.
    async fn forget_current() {
        if let Some(request) = use_context::<RequestUser>() {
            *request.0.lock().await = None;
        }
    }
}

/// Returns the signed-in user, or `None` without a valid session. A session past its absolute
/// lifetime is ended here; one idle for too long has already expired in the store.
pub async fn current_user(services: &Services) -> Result<Option<SignedInUser>, AppError> {
    let Some(request) = use_context::<RequestUser>() else {
        return user_of_session(&session().await?, services).await;
    };
    let mut known = request.0.lock().await;
    if let Some(user) = known.as_ref() {
        return Ok(user.clone());
    }
    let user = user_of_session(&session().await?, services).await?;
    *known = Some(user.clone());
    Ok(user)
}

/// Returns the user signed in to `session`, as [`current_user`] does, for handlers outside the
/// server functions.
pub async fn user_of_session(
    session: &Session,
    services: &Services,
) -> Result<Option<SignedInUser>, AppError> {
    let Some(user_id) = session.get::<UserId>(USER_ID_KEY).await.map_err(internal)? else {
        return Ok(None);
    };
    let now = Utc::now().timestamp();
    let signed_in_at: i64 = session
        .get(SIGNED_IN_AT_KEY)
        .await
        .map_err(internal)?
        .unwrap_or(0);
    if now - signed_in_at > seconds(services.settings.session_max_lifetime) {
        session.flush().await.map_err(internal)?;
        return Ok(None);
    }

    let mut connection = crate::db::connection(&services.pool).await?;
    let account = accounts::find_account_with_roles(&mut connection, user_id)
        .await
        .map_err(internal)?;
    let Some((account, roles, name)) =
        account.filter(|(account, _, _)| account.status == UserStatus::Active)
    else {
        session.flush().await.map_err(internal)?;
        return Ok(None);
    };

    let last_seen: i64 = session
        .get(LAST_SEEN_KEY)
        .await
        .map_err(internal)?
        .unwrap_or(0);
    if now - last_seen >= LAST_SEEN_GRANULARITY_SECS {
        session.insert(LAST_SEEN_KEY, now).await.map_err(internal)?;
    }
    Ok(Some(SignedInUser {
        id: user_id,
        clinic_id: account.clinic_id,
        roles,
        name,
    }))
}

/// Returns the signed-in user or fails with 401.
pub async fn require_user(services: &Services) -> Result<SignedInUser, AppError> {
    current_user(services).await?.ok_or_else(|| {
        AppError::new(
            ErrorCode::Unauthenticated,
            "Your session has ended. Sign in again to continue.",
        )
    })
}

/// Returns the signed-in user if she has one of `roles`; otherwise the same error as for a
/// missing record, so that the existence of the resource is not revealed.
pub async fn require_any_role(
    services: &Services,
    roles: &[Role],
) -> Result<SignedInUser, AppError> {
    let user = require_user(services).await?;
    if user.has_any_role(roles) {
        Ok(user)
    } else {
        Err(AppError::not_found())
    }
}

/// Fails with `StepUpRequired` unless the user passed a user-verified passkey assertion within
/// the step-up window.
pub async fn require_recent_step_up(services: &Services) -> Result<(), AppError> {
    let session = session().await?;
    let step_up_at: i64 = session
        .get(STEP_UP_AT_KEY)
        .await
        .map_err(internal)?
        .unwrap_or(0);
    if Utc::now().timestamp() - step_up_at <= seconds(services.settings.step_up_window) {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::StepUpRequired,
            "Confirm it's you with your passkey to continue.",
        ))
    }
}

/// Records a successful step-up assertion and rotates the session id.
pub async fn mark_step_up(session: &Session) -> Result<(), AppError> {
    session.cycle_id().await.map_err(internal)?;
    session
        .insert(STEP_UP_AT_KEY, Utc::now().timestamp())
        .await
        .map_err(internal)
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}
