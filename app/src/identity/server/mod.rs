//! Server-only parts of identity: the session store, WebAuthn ceremonies, accounts,
//! invitations, rate limits and the signed-in user of a request.

pub mod accounts;
pub mod admin;
pub mod alerts;
pub mod auth;
pub mod ceremonies;
pub mod email;
pub mod events;
pub mod invitations;
pub mod passkeys;
pub mod rate_limit;
pub mod request;
pub mod session_store;
pub mod sessions;
pub mod sign_in;
