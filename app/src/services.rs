//! Server-side services shared by every server function, provided as Leptos context.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::use_context;
use webauthn_rs::Webauthn;

use crate::audit::AuditWriter;
use crate::crypto::KeyProvider;
use crate::db::DbPool;
use crate::error::AppError;
use crate::identity::server::email::BlindIndexKey;

/// Everything a server function may need besides the request itself.
pub struct Services {
    pub pool: DbPool,
    pub webauthn: Webauthn,
    pub keys: Arc<dyn KeyProvider>,
    pub blind_index: BlindIndexKey,
    pub settings: IdentitySettings,
    /// Group commit for access events committed on their own, such as denials.
    pub audit: AuditWriter,
}

/// Limits and lifetimes of identity features, from configuration.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// Address browsers use, for links such as enrollment links.
    pub public_url: String,
    pub invitation_ttl: Duration,
    /// A session ends after this long without a request.
    pub session_idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub session_max_lifetime: Duration,
    /// Maximum age of the user-verified passkey assertion that a sensitive action requires.
    pub step_up_window: Duration,
    /// Lifetime of a WebAuthn challenge.
    pub ceremony_ttl: Duration,
    pub rate_limits: RateLimits,
}

/// Attempts allowed per window; a further attempt gets 429 with `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub window: Duration,
    pub sign_in_per_address: u32,
    pub sign_in_per_account: u32,
    pub enrollment_per_address: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(300),
            sign_in_per_address: 30,
            sign_in_per_account: 10,
            enrollment_per_address: 20,
        }
    }
}

/// Returns the services provided by the server's router.
pub fn services() -> Result<Arc<Services>, AppError> {
    use_context::<Arc<Services>>().ok_or_else(|| {
        tracing::error!("server functions were called without the Services context");
        AppError::internal()
    })
}
