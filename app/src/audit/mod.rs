//! The audit trail: an append-only, hash-chained record of access to patient data and of
//! identity events, stored in the tables `data_access_audit` and `security_events`.
//!
//! Events are data, not log lines. [`record_access`] and [`record_security_event`] insert with
//! the caller's connection and must run inside the caller's transaction, so an event commits or
//! rolls back with the access it records.
//!
//! Each clinic has one chain per table. Appending locks the chain's row in `audit_chain_heads`
//! (`SELECT ... FOR UPDATE`), so concurrent writers for one clinic wait for each other and the
//! chain never forks. An event's hash is SHA-256 over its canonical encoding, which ends with
//! the previous event's hash, and the first event's previous hash is 32 zero bytes. See
//! [`hash`] for the encoding and [`verify_chains`] for the check.
//!
//! A transaction that records events in both tables locks two chain heads. Record the access
//! event first, so that two such transactions take the locks in the same order and cannot
//! deadlock.

mod chain;
pub mod hash;
mod history;
mod kind;
mod record;
mod rows;
mod types;
mod verify;

pub use history::{AccessEvent, HistoryCursor, HistoryPage, MAX_PAGE_SIZE, SecurityEvent};
pub use history::{patient_access_history, user_security_events};
pub use kind::SecurityEventKind;
pub use record::{record_access, record_security_event};
pub use types::{
    AccessAction, AccessOutcome, AuditError, AuditEventId, AuditTable, ClientInfo, NewAccessEvent,
    NewSecurityEvent,
};
pub use verify::{BreakReason, BrokenLink, ChainReport, VerifyReport, verify_chains};
