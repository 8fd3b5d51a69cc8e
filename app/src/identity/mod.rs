//! Passkey-only identity: invitations, enrollment, sign-in, step-up, passkeys and sessions.
//!
//! Types here cross the wire between the browser and the server functions; the server-only
//! logic is in [`server`].

mod api;
#[cfg(feature = "hydrate")]
mod browser;
pub mod flows;
pub mod pages;
mod roles;
#[cfg(feature = "ssr")]
pub mod server;

pub use api::*;
pub use roles::Role;

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// The signed-in user as the pages see her.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: UserId,
    pub display_name: String,
    pub clinic_name: String,
    pub roles: Vec<Role>,
}

/// Options for the browser's WebAuthn call, and the ceremony id to send back with its response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CeremonyOptions {
    pub ceremony_id: String,
    /// JSON of the form `{"publicKey": {...}}`, readable by
    /// `PublicKeyCredential.parseCreationOptionsFromJSON` or `parseRequestOptionsFromJSON`.
    pub options: String,
}

/// Details of an invitation, shown before the user creates her passkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationDetails {
    pub display_name: String,
    pub clinic_name: String,
    /// True when the invitation replaces lost passkeys; using it ends every other session.
    pub recovery: bool,
    /// RFC 3339 time after which the link stops working.
    pub expires_at: String,
}

/// A passkey as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeySummary {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// Whether the authenticator reports the passkey as synced to a backup.
    pub backed_up: bool,
}

/// One of the user's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// A hash of the session id: it names the session without revealing the cookie value.
    pub handle: String,
    pub device: String,
    pub signed_in_at: String,
    pub last_seen_at: String,
    pub current: bool,
}

/// A user of the clinic, as listed on the admin's Users page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: UserId,
    pub display_name: String,
    pub email: String,
    pub roles: Vec<Role>,
    /// "invited", "active" or "deactivated".
    pub status: String,
}

/// A new enrollment link, shown once to the person who created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedLink {
    pub user_id: UserId,
    pub link: String,
    pub expires_at: String,
}

/// Returns the error for an enrollment link without a usable token.
pub fn invitation_link_invalid() -> crate::error::AppError {
    crate::error::AppError::new(
        crate::error::ErrorCode::NotFound,
        "This invitation link is not valid. Check that you opened the whole link, or ask your clinic for a new one.",
    )
}

/// Something an admin should look at, such as a passkey that may have been copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityAlert {
    /// The security event kind behind the alert, such as `counter_regression`.
    pub kind: String,
    pub message: String,
    pub occurred_at: String,
}
