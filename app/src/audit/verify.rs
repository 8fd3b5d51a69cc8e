//! Verification of the hash chains, as run by `nurture verify-audit`.
//!
//! NOTE: the chain detects changes made by anyone who does not also recompute every later hash
//! and the chain head. A database owner who rewrites a whole chain consistently is not detected.
//! Detecting that needs the chain heads copied to a store the database owner cannot write.

use std::fmt;

use diesel::QueryableByName;
use diesel::query_builder::AsQuery;
use diesel::sql_types::{Bytea, Int8, Text, Uuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::hash::GENESIS_HASH;
use super::rows::{AccessRow, ChainRow, SecurityRow};
use super::{AuditError, AuditTable};
use crate::ids::ClinicId;

/// Number of events read per query while walking a chain.
pub const VERIFY_BATCH_SIZE: i64 = 1000;

/// Result of checking every chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub chains: Vec<ChainReport>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.first_break().is_none()
    }

    /// Returns the first broken link, in table and then clinic id order.
    pub fn first_break(&self) -> Option<&BrokenLink> {
        self.chains
            .iter()
            .find_map(|chain| chain.first_break.as_ref())
    }
}

/// Result of checking one clinic's chain in one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub table: AuditTable,
    pub clinic_id: ClinicId,
    /// Number of events in the chain, including any after the first break.
    pub events: u64,
    pub first_break: Option<BrokenLink>,
}

/// The first event at which a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub table: AuditTable,
    pub clinic_id: ClinicId,
    pub sequence: i64,
    pub reason: BreakReason,
}

/// Reason a link is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// The stored hash differs from the hash recomputed from the event: the event was changed.
    HashMismatch,
    /// The event's previous hash differs from the hash of the event before it.
    PrevHashMismatch,
    /// The sequence numbers skip or repeat: events were removed or inserted.
    Gap { expected: i64 },
    /// The chain head names a later or different last event: events at the end were removed.
    HeadMismatch { last_event_sequence: i64 },
    /// Events exist but the chain head row is missing.
    MissingHead,
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} chain of clinic {} is broken at sequence {}: ",
            self.table, self.clinic_id, self.sequence
        )?;
        match self.reason {
            BreakReason::HashMismatch => f.write_str("the stored hash does not match the event"),
            BreakReason::PrevHashMismatch => {
                f.write_str("the previous hash does not match the event before it")
            }
            BreakReason::Gap { expected } => write!(f, "expected sequence {expected}"),
            BreakReason::HeadMismatch {
                last_event_sequence,
            } => write!(
                f,
                "the chain head does not match the last event, which has sequence {last_event_sequence}"
            ),
            BreakReason::MissingHead => f.write_str("the chain head row is missing"),
        }
    }
}

#[derive(QueryableByName)]
struct ClinicRow {
    #[diesel(sql_type = Uuid)]
    clinic_id: uuid::Uuid,
}

#[derive(QueryableByName)]
struct HeadRow {
    #[diesel(sql_type = Int8)]
    last_sequence: i64,
    #[diesel(sql_type = Bytea)]
    last_hash: Vec<u8>,
}

/// Walks every clinic's chain in both tables in sequence order, [`VERIFY_BATCH_SIZE`] events
/// at a time, and reports the first broken link of each.
///
/// Runs in its own read-only REPEATABLE READ transaction, so events appended meanwhile cannot
/// make the heads disagree with the events read. `conn` must not be inside a transaction.
pub async fn verify_chains(conn: &mut AsyncPgConnection) -> Result<VerifyReport, AuditError> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async |conn| {
            let mut chains = Vec::new();
            for table in AuditTable::ALL {
                for clinic_id in chain_clinics(conn, table).await? {
                    let report = match table {
                        AuditTable::DataAccess => {
                            verify_chain::<AccessRow>(conn, table, clinic_id).await?
                        }
                        AuditTable::SecurityEvents => {
                            verify_chain::<SecurityRow>(conn, table, clinic_id).await?
                        }
                    };
                    chains.push(report);
                }
            }
            Ok(VerifyReport { chains })
        })
        .await
}

/// Clinics that have a chain head or an event in `table`.
async fn chain_clinics(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
) -> Result<Vec<ClinicId>, AuditError> {
    let rows: Vec<ClinicRow> = diesel::sql_query(format!(
        "SELECT clinic_id FROM audit_chain_heads WHERE chain = $1 \
         UNION SELECT DISTINCT clinic_id FROM {table} ORDER BY clinic_id"
    ))
    .bind::<Text, _>(table.name())
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ClinicId(row.clinic_id))
        .collect())
}

async fn verify_chain<Row: ChainRow>(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    clinic_id: ClinicId,
) -> Result<ChainReport, AuditError> {
    let mut report = ChainReport {
        table,
        clinic_id,
        events: 0,
        first_break: None,
    };
    let broken = |sequence, reason| BrokenLink {
        table,
        clinic_id,
        sequence,
        reason,
    };
    let mut last_sequence = 0_i64;
    let mut last_hash = GENESIS_HASH.to_vec();
    let mut cursor = (0_i64, uuid::Uuid::nil());

    loop {
        let batch: Vec<Row> = next_batch(conn, table, clinic_id, cursor).await?;
        let Some(last) = batch.last() else { break };
        cursor = (last.sequence(), last.id());

        for row in &batch {
            report.events += 1;
            if report.first_break.is_some() {
                continue;
            }
            let reason = if row.sequence() != last_sequence + 1 {
                Some(BreakReason::Gap {
                    expected: last_sequence + 1,
                })
            } else if row.prev_hash() != last_hash.as_slice() {
                Some(BreakReason::PrevHashMismatch)
            } else if row.recompute_hash().as_slice() != row.hash() {
                Some(BreakReason::HashMismatch)
            } else {
                None
            };
            report.first_break = reason.map(|reason| broken(row.sequence(), reason));
            last_sequence = row.sequence();
            last_hash = row.hash().to_vec();
        }
    }

    if report.first_break.is_none() {
        report.first_break = check_head(conn, table, clinic_id, last_sequence, &last_hash)
            .await?
            .map(|(sequence, reason)| broken(sequence, reason));
    }
    Ok(report)
}

async fn next_batch<Row: ChainRow>(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    clinic_id: ClinicId,
    after: (i64, uuid::Uuid),
) -> Result<Vec<Row>, AuditError> {
    let query = diesel::sql_query(format!(
        "SELECT {} FROM {table} WHERE clinic_id = $1 AND (sequence, id) > ($2, $3) \
         ORDER BY sequence, id LIMIT $4",
        Row::COLUMNS
    ))
    .bind::<Uuid, _>(clinic_id)
    .bind::<Int8, _>(after.0)
    .bind::<Uuid, _>(after.1)
    .bind::<Int8, _>(VERIFY_BATCH_SIZE);
    Ok(query.as_query().load(conn).await?)
}

/// Compares the chain head with the last event walked; returns the break, if any.
async fn check_head(
    conn: &mut AsyncPgConnection,
    table: AuditTable,
    clinic_id: ClinicId,
    last_sequence: i64,
    last_hash: &[u8],
) -> Result<Option<(i64, BreakReason)>, AuditError> {
    let heads: Vec<HeadRow> = diesel::sql_query(
        "SELECT last_sequence, last_hash FROM audit_chain_heads WHERE chain = $1 AND clinic_id = $2",
    )
    .bind::<Text, _>(table.name())
    .bind::<Uuid, _>(clinic_id)
    .load(conn)
    .await?;

    Ok(match heads.first() {
        None if last_sequence > 0 => Some((last_sequence, BreakReason::MissingHead)),
        None => None,
        Some(head) if head.last_sequence != last_sequence || head.last_hash != last_hash => Some((
            head.last_sequence,
            BreakReason::HeadMismatch {
                last_event_sequence: last_sequence,
            },
        )),
        Some(_) => None,
    })
}
