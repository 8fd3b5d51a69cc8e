//! Access control: which role may do what with which class of patient data, and the policy
//! decision that combines role permission, data scope, time window and consent.
//!
//! Access is granted only when every condition holds, so any single "no" denies.

pub mod permissions;
#[cfg(feature = "ssr")]
pub mod policy;

pub use permissions::{Action, DataCategory, PermissionTable};
