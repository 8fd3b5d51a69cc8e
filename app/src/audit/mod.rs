//! The audit trail: an append-only, hash-chained record of access to patient data and of
//! identity events, stored in the tables `data_access_audit` and `security_events`.
//!
//! Events are data, not log lines. [`record_access`] and [`record_security_event`] insert with
//! the caller's connection and must run inside the caller's transaction, so an event commits or
//! rolls back with the access it records.
//!
//! Each clinic's events in each table form up to 32 independent hash chains, called shards and
//! numbered from 0. An append holds the head of one shard in `audit_chain_heads` locked until
//! the caller's transaction ends, so concurrent writers for one clinic take different shards and
//! commit in parallel. In the common case an append is one statement that starts from a head
//! this process moved earlier. The statement locks that head only if no other transaction has
//! locked it and it has not moved since (`FOR UPDATE SKIP LOCKED` with the expected sequence
//! number and hash), then inserts the events and moves the head. Otherwise it writes nothing, and the append first
//! locks the lowest-numbered shard that no other transaction holds, then appends after it.
//! Sequence numbers start at 1 in each shard. An
//! event's hash is HMAC-SHA-256, under the audit key (see [`AuditKeyring`]), over its canonical
//! encoding, which ends with the previous event's hash in the same shard; the first event's
//! previous hash is 32 zero bytes. See [`hash`] for the encoding and [`verify_chains`] for the
//! check, which walks every shard.
//!
//! The key makes a rewritten chain detectable even by someone who can change every row: without
//! the key, no one can compute the hashes of altered events. The server also connects as a
//! runtime role that may only read and insert events (see the migration
//! `2026-12-05-100000_separate_audit_privileges`), so its own credentials cannot disable the
//! append-only triggers either.
//!
//! With one chain per clinic, each append to a clinic waited until the previous appender's
//! transaction committed, so one clinic's appends paid one WAL flush after another. The price
//! of shards: events of one clinic no longer have a single total order, because each shard
//! orders only its own events and `occurred_at` orders events across shards only as far as the
//! application servers' clocks agree. A clinic also has up to 32 heads per table, which the
//! verifier reads. Tamper evidence is unchanged: every event is in exactly one chain, every
//! chain has a head, and an event moved to another shard breaks both chains.
//!
//! An event that is committed on its own, such as a denial, goes through the server's
//! [`AuditWriter`] instead, which commits the events of concurrent requests together and replies
//! to each request only once its event is committed.
//!
//! A transaction that records events in both tables locks two chain heads. Record the access
//! event first. When every shard is locked, a writer waits for shard 0 of that table, so two
//! transactions that follow this order cannot deadlock on one clinic's heads.

mod chain;
mod deferred;
pub mod hash;
mod history;
mod keys;
mod kind;
mod record;
mod rows;
mod statements;
mod types;
mod verify;
mod writer;

pub use deferred::{collecting, merge_elements, record_in_transaction};
pub use history::{AccessEvent, HistoryCursor, HistoryPage, MAX_PAGE_SIZE, SecurityEvent};
pub use history::{patient_access_history, user_security_events};
pub use keys::{AuditKey, AuditKeyring, install as install_audit_keys};
pub use kind::SecurityEventKind;
pub use record::{
    APPEND_CHUNK, record_access, record_accesses, record_clinic_accesses, record_security_event,
};
pub use types::{
    AccessAction, AccessOutcome, AuditError, AuditEventId, AuditTable, ClientInfo, NewAccessEvent,
    NewSecurityEvent,
};
pub use verify::{BreakReason, BrokenLink, ChainReport, VerifyReport, verify_chains};
pub use writer::AuditWriter;
