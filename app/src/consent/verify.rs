//! Recomputing the consent ledger's chains.
//!
//! For each chain, entries are walked in sequence order. Each entry must have the next sequence
//! number, name the previous entry's hash (the genesis hash for the first), carry the digest
//! recomputed from its grant's stored row, and hash to its stored hash. The chain head must name
//! the last entry.

use std::collections::HashMap;
use std::fmt;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::ConsentError;
use super::hash::GENESIS_HASH;
use super::ledger::{
    ChainScope, EntryRow, GrantFields, LedgerEvent, entry_hash, grant_fields, grant_selection,
    grants_query,
};
use super::schema::{consent_chain_heads, consent_grants, consent_ledger};
use crate::ids::{ClinicId, PatientId};

/// The first inconsistency found in one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerBreak {
    /// "patient" or "clinic".
    pub scope: &'static str,
    /// The patient's or clinic's id.
    pub owner: Uuid,
    /// Sequence number at which the chain breaks.
    pub sequence: i64,
    /// The entry at that position, if there is one.
    pub entry: Option<Uuid>,
    pub reason: &'static str,
}

impl fmt::Display for LedgerBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} chain {} at sequence {}",
            self.scope, self.owner, self.sequence
        )?;
        if let Some(entry) = self.entry {
            write!(f, " (entry {entry})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Result of a verification: entries checked per chain, and every broken chain's first break.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerReport {
    /// (scope, owner id, entries) for every chain checked.
    pub chains: Vec<(&'static str, Uuid, usize)>,
    pub breaks: Vec<LedgerBreak>,
}

impl LedgerReport {
    pub fn is_intact(&self) -> bool {
        self.breaks.is_empty()
    }

    pub fn first_break(&self) -> Option<&LedgerBreak> {
        self.breaks.first()
    }
}

/// Recomputes every patient chain and every clinic chain in the database.
pub async fn verify_ledger(conn: &mut AsyncPgConnection) -> Result<LedgerReport, ConsentError> {
    let entries: Vec<EntryRow> = consent_ledger::table
        .select(EntryRow::as_select())
        .load(conn)
        .await?;
    let grants: Vec<GrantFields> = grants_query()
        .select(grant_selection())
        .load(conn)
        .await?
        .into_iter()
        .map(grant_fields)
        .collect();
    let heads = load_heads(conn, None).await?;
    Ok(check(&entries, &grants, &heads, None))
}

/// Recomputes one patient's chain, for her "verify my consent history" page.
pub async fn verify_patient_ledger(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
) -> Result<LedgerReport, ConsentError> {
    let entries: Vec<EntryRow> = consent_ledger::table
        .filter(consent_ledger::patient_id.eq(patient_id.0))
        .select(EntryRow::as_select())
        .load(conn)
        .await?;
    let grants: Vec<GrantFields> = grants_query()
        .filter(consent_grants::clinic_id.eq(clinic_id.0))
        .filter(consent_grants::patient_id.eq(patient_id.0))
        .select(grant_selection())
        .load(conn)
        .await?
        .into_iter()
        .map(grant_fields)
        .collect();
    let heads = load_heads(conn, Some(patient_id)).await?;
    Ok(check(&entries, &grants, &heads, Some(ChainScope::Patient)))
}

/// A chain head: scope, owner id, last sequence number and last hash.
type Head = (String, Uuid, i64, Vec<u8>);

/// Loads every chain head, or only the head of `patient`'s chain.
async fn load_heads(
    conn: &mut AsyncPgConnection,
    patient: Option<PatientId>,
) -> Result<Vec<Head>, ConsentError> {
    let mut query = consent_chain_heads::table
        .select((
            consent_chain_heads::scope,
            consent_chain_heads::owner_id,
            consent_chain_heads::last_sequence,
            consent_chain_heads::last_hash,
        ))
        .into_boxed();
    if let Some(patient) = patient {
        query = query
            .filter(consent_chain_heads::scope.eq(ChainScope::Patient.as_str()))
            .filter(consent_chain_heads::owner_id.eq(patient.0));
    }
    Ok(query.load(conn).await?)
}

/// Checks the chains of `entries` against `heads`; `only` limits the check to one scope.
fn check(
    entries: &[EntryRow],
    grants: &[GrantFields],
    heads: &[Head],
    only: Option<ChainScope>,
) -> LedgerReport {
    let grants: HashMap<Uuid, &GrantFields> = grants
        .iter()
        .map(|fields| (fields.grant.id, fields))
        .collect();
    let mut report = LedgerReport::default();
    for scope in [ChainScope::Patient, ChainScope::Clinic] {
        if only.is_some_and(|only| only != scope) {
            continue;
        }
        let mut chains: HashMap<Uuid, Vec<&EntryRow>> = HashMap::new();
        for entry in entries {
            chains.entry(owner(scope, entry)).or_default().push(entry);
        }
        for (head_scope, head_owner, _, _) in heads {
            if head_scope == scope.as_str() {
                chains.entry(*head_owner).or_default();
            }
        }
        let mut owners: Vec<Uuid> = chains.keys().copied().collect();
        owners.sort();
        for chain_owner in owners {
            let mut chain = chains.remove(&chain_owner).unwrap_or_default();
            chain.sort_by_key(|entry| (sequence(scope, entry), entry.id));
            let head = heads
                .iter()
                .find(|(head_scope, head_owner, _, _)| {
                    head_scope == scope.as_str() && *head_owner == chain_owner
                })
                .map(|(_, _, sequence, hash)| (*sequence, hash.as_slice()));
            report
                .chains
                .push((scope.as_str(), chain_owner, chain.len()));
            if let Some(broken) = check_chain(scope, chain_owner, &chain, &grants, head) {
                report.breaks.push(broken);
            }
        }
    }
    report
}

fn owner(scope: ChainScope, entry: &EntryRow) -> Uuid {
    match scope {
        ChainScope::Patient => entry.patient_id,
        ChainScope::Clinic => entry.clinic_id,
    }
}

fn sequence(scope: ChainScope, entry: &EntryRow) -> i64 {
    match scope {
        ChainScope::Patient => entry.patient_sequence,
        ChainScope::Clinic => entry.clinic_sequence,
    }
}

fn prev_hash(scope: ChainScope, entry: &EntryRow) -> &[u8] {
    match scope {
        ChainScope::Patient => &entry.patient_prev_hash,
        ChainScope::Clinic => &entry.clinic_prev_hash,
    }
}

fn check_chain(
    scope: ChainScope,
    chain_owner: Uuid,
    chain: &[&EntryRow],
    grants: &HashMap<Uuid, &GrantFields>,
    head: Option<(i64, &[u8])>,
) -> Option<LedgerBreak> {
    let broken = |sequence: i64, entry: Option<Uuid>, reason: &'static str| LedgerBreak {
        scope: scope.as_str(),
        owner: chain_owner,
        sequence,
        entry,
        reason,
    };
    let mut expected_prev: &[u8] = &GENESIS_HASH;
    let mut expected_sequence = 1;
    for entry in chain {
        let at = sequence(scope, entry);
        if at != expected_sequence {
            return Some(broken(
                expected_sequence,
                Some(entry.id),
                "sequence gap or duplicate",
            ));
        }
        if prev_hash(scope, entry) != expected_prev {
            return Some(broken(at, Some(entry.id), "previous hash does not match"));
        }
        let digest_matches = match (
            grants.get(&entry.grant_id),
            LedgerEvent::parse(&entry.event),
        ) {
            (Some(grant), Some(event)) => grant.digest(event).as_slice() == entry.grant_digest,
            _ => false,
        };
        if !digest_matches {
            return Some(broken(
                at,
                Some(entry.id),
                "grant does not match its recorded digest",
            ));
        }
        if entry_hash(entry).as_slice() != entry.hash {
            return Some(broken(
                at,
                Some(entry.id),
                "entry hash does not match its contents",
            ));
        }
        expected_prev = &entry.hash;
        expected_sequence += 1;
    }
    let last_sequence = expected_sequence - 1;
    match head {
        Some((sequence, hash)) if sequence == last_sequence && hash == expected_prev => None,
        None if chain.is_empty() => None,
        _ => Some(broken(
            last_sequence,
            None,
            "chain head does not match the last entry",
        )),
    }
}
