//! The consent ledger: one append-only entry per grant, revocation and expiry, chained per
//! patient and per clinic.
//!
//! An entry's hash covers its id, clinic, patient, grant, event, effective and recorded
//! instants, the grant digest, and its sequence number and previous hash in both chains (see
//! [`entry_hash`]). The grant digest covers the grant's stored fields that the event concerns
//! (see [`GrantFields::digest`]), so an edit of the grant row is detected too.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::ConsentError;
use super::hash::{Encoder, GENESIS_HASH, to_micros};
use super::schema::{
    consent_chain_heads, consent_grants, consent_ledger, consent_revocations, consent_signatures,
};
use crate::ids::{ClinicId, ConsentGrantId, PatientId};

/// Event that a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerEvent {
    Granted,
    Revoked,
    Expired,
}

impl LedgerEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerEvent::Granted => "granted",
            LedgerEvent::Revoked => "revoked",
            LedgerEvent::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            LedgerEvent::Granted,
            LedgerEvent::Revoked,
            LedgerEvent::Expired,
        ]
        .into_iter()
        .find(|event| event.as_str() == text)
    }
}

/// A stored grant's scope and dates.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = consent_grants)]
pub(super) struct GrantRow {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub template_version_id: Uuid,
    pub data_categories: Vec<String>,
    pub recipient_roles: Vec<String>,
    pub named_parties: Vec<String>,
    pub purpose: String,
    pub starts_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub granted_by: Uuid,
    pub granted_at: DateTime<Utc>,
}

/// A stored grant's signature evidence.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = consent_signatures)]
pub(super) struct SignatureRow {
    pub grant_id: Uuid,
    pub data_key_version: i32,
    pub signer_name_ciphertext: Vec<u8>,
    pub witness_name_ciphertext: Option<Vec<u8>>,
    pub credential_id: Vec<u8>,
    pub signed_text_hash: Vec<u8>,
    pub assertion: String,
}

/// A stored revocation.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = consent_revocations)]
pub(super) struct RevocationRow {
    pub grant_id: Uuid,
    pub revoked_at: DateTime<Utc>,
    pub revoked_by: Uuid,
    pub data_key_version: i32,
    pub reason_ciphertext: Vec<u8>,
}

/// Everything stored about one grant, which ledger digests cover.
#[derive(Debug, Clone)]
pub(super) struct GrantFields {
    pub grant: GrantRow,
    pub signature: SignatureRow,
    pub revocation: Option<RevocationRow>,
}

/// The columns that load [`GrantFields`] from [`grants_query`].
pub(super) type GrantSelection = (
    diesel::dsl::AsSelect<GrantRow, diesel::pg::Pg>,
    diesel::dsl::AsSelect<SignatureRow, diesel::pg::Pg>,
    diesel::dsl::AsSelect<Option<RevocationRow>, diesel::pg::Pg>,
);

/// Returns the columns that load [`GrantFields`].
pub(super) fn grant_selection() -> GrantSelection {
    (
        GrantRow::as_select(),
        SignatureRow::as_select(),
        <Option<RevocationRow>>::as_select(),
    )
}

/// Builds [`GrantFields`] from a row of [`grant_selection`].
pub(super) fn grant_fields(
    (grant, signature, revocation): (GrantRow, SignatureRow, Option<RevocationRow>),
) -> GrantFields {
    GrantFields {
        grant,
        signature,
        revocation,
    }
}

impl GrantFields {
    /// Computes the digest that an entry for `event` carries. A grant entry covers every field
    /// written when the grant was signed; a revocation entry adds the revocation; an expiry
    /// entry adds the expiry instant.
    pub fn digest(&self, event: LedgerEvent) -> [u8; 32] {
        let (grant, signature) = (&self.grant, &self.signature);
        let granted = Encoder::new("nurture.consent.grant.v1")
            .id(grant.id)
            .id(grant.clinic_id)
            .id(grant.patient_id)
            .id(grant.template_version_id)
            .list(&grant.data_categories)
            .list(&grant.recipient_roles)
            .list(&grant.named_parties)
            .text(&grant.purpose)
            .instant(grant.starts_at)
            .optional_instant(grant.expires_at)
            .id(grant.granted_by)
            .instant(grant.granted_at)
            .id(signature.grant_id)
            .integer(i64::from(signature.data_key_version))
            .bytes(&signature.signer_name_ciphertext)
            .optional_bytes(signature.witness_name_ciphertext.as_deref())
            .bytes(&signature.credential_id)
            .bytes(&signature.signed_text_hash)
            .text(&signature.assertion)
            .finish();

        match event {
            LedgerEvent::Granted => granted,
            LedgerEvent::Revoked => {
                let mut encoder = Encoder::new("nurture.consent.revocation.v1");
                encoder.bytes(&granted);
                match &self.revocation {
                    Some(revocation) => encoder
                        .id(revocation.grant_id)
                        .instant(revocation.revoked_at)
                        .id(revocation.revoked_by)
                        .integer(i64::from(revocation.data_key_version))
                        .bytes(&revocation.reason_ciphertext),
                    None => encoder.optional_bytes(None),
                };
                encoder.finish()
            }
            LedgerEvent::Expired => Encoder::new("nurture.consent.expiry.v1")
                .bytes(&granted)
                .optional_instant(grant.expires_at)
                .finish(),
        }
    }
}

/// A stored ledger entry.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = consent_ledger)]
pub(super) struct EntryRow {
    pub id: Uuid,
    pub clinic_id: Uuid,
    pub patient_id: Uuid,
    pub grant_id: Uuid,
    pub event: String,
    pub effective_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub grant_digest: Vec<u8>,
    pub patient_sequence: i64,
    pub patient_prev_hash: Vec<u8>,
    pub clinic_sequence: i64,
    pub clinic_prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Computes an entry's hash from every column except `hash`.
pub(super) fn entry_hash(row: &EntryRow) -> [u8; 32] {
    Encoder::new("nurture.consent.ledger.v1")
        .id(row.id)
        .id(row.clinic_id)
        .id(row.patient_id)
        .id(row.grant_id)
        .text(&row.event)
        .instant(row.effective_at)
        .instant(row.recorded_at)
        .bytes(&row.grant_digest)
        .integer(row.patient_sequence)
        .bytes(&row.patient_prev_hash)
        .integer(row.clinic_sequence)
        .bytes(&row.clinic_prev_hash)
        .finish()
}

/// Scope of a chain in `consent_chain_heads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChainScope {
    Patient,
    Clinic,
}

impl ChainScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ChainScope::Patient => "patient",
            ChainScope::Clinic => "clinic",
        }
    }
}

/// Locks a chain's head until the transaction ends, creating it at the genesis hash if needed.
async fn lock_head(
    conn: &mut AsyncPgConnection,
    scope: ChainScope,
    owner: Uuid,
) -> Result<(i64, Vec<u8>), ConsentError> {
    diesel::insert_into(consent_chain_heads::table)
        .values((
            consent_chain_heads::scope.eq(scope.as_str()),
            consent_chain_heads::owner_id.eq(owner),
            consent_chain_heads::last_sequence.eq(0_i64),
            consent_chain_heads::last_hash.eq(GENESIS_HASH.to_vec()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let head = consent_chain_heads::table
        .find((scope.as_str(), owner))
        .select((
            consent_chain_heads::last_sequence,
            consent_chain_heads::last_hash,
        ))
        .for_update()
        .first(conn)
        .await?;
    Ok(head)
}

async fn advance_head(
    conn: &mut AsyncPgConnection,
    scope: ChainScope,
    owner: Uuid,
    sequence: i64,
    hash: &[u8],
) -> Result<(), ConsentError> {
    diesel::update(consent_chain_heads::table.find((scope.as_str(), owner)))
        .set((
            consent_chain_heads::last_sequence.eq(sequence),
            consent_chain_heads::last_hash.eq(hash.to_vec()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Appends the entry for `event` of `grant`. Must run inside the transaction that wrote the
/// grant's change. The clinic's head is locked before the patient's, always in that order, so
/// two appenders cannot wait for each other in a cycle.
pub(super) async fn append(
    conn: &mut AsyncPgConnection,
    grant: &GrantFields,
    event: LedgerEvent,
    effective_at: DateTime<Utc>,
) -> Result<(), ConsentError> {
    let (clinic_sequence, clinic_prev_hash) =
        lock_head(conn, ChainScope::Clinic, grant.grant.clinic_id).await?;
    let (patient_sequence, patient_prev_hash) =
        lock_head(conn, ChainScope::Patient, grant.grant.patient_id).await?;

    let mut row = EntryRow {
        id: Uuid::new_v4(),
        clinic_id: grant.grant.clinic_id,
        patient_id: grant.grant.patient_id,
        grant_id: grant.grant.id,
        event: event.as_str().to_owned(),
        effective_at: to_micros(effective_at),
        recorded_at: to_micros(Utc::now()),
        grant_digest: grant.digest(event).to_vec(),
        patient_sequence: patient_sequence + 1,
        patient_prev_hash,
        clinic_sequence: clinic_sequence + 1,
        clinic_prev_hash,
        hash: Vec::new(),
    };
    row.hash = entry_hash(&row).to_vec();
    diesel::insert_into(consent_ledger::table)
        .values(&row)
        .execute(conn)
        .await?;
    advance_head(
        conn,
        ChainScope::Clinic,
        row.clinic_id,
        row.clinic_sequence,
        &row.hash,
    )
    .await?;
    advance_head(
        conn,
        ChainScope::Patient,
        row.patient_id,
        row.patient_sequence,
        &row.hash,
    )
    .await
}

/// Returns the query that joins grants with their signatures and revocations.
pub(super) fn grants_query() -> diesel::dsl::LeftJoin<
    diesel::dsl::InnerJoin<consent_grants::table, consent_signatures::table>,
    consent_revocations::table,
> {
    consent_grants::table
        .inner_join(consent_signatures::table)
        .left_join(consent_revocations::table)
}

/// Appends an expiry entry for every grant that expired at or before `now` without being revoked
/// first and has none yet, and returns how many were appended. Expiry applies at its instant
/// whether or not this has run, because the access policy compares instants; the entry records
/// it in the ledger. `patient` limits the work to one patient's grants.
pub async fn record_expiries(
    conn: &mut AsyncPgConnection,
    patient: Option<(ClinicId, PatientId)>,
    now: DateTime<Utc>,
) -> Result<usize, ConsentError> {
    use diesel_async::AsyncConnection;

    conn.transaction::<_, ConsentError, _>(async move |conn| {
        let recorded = consent_ledger::table
            .filter(consent_ledger::grant_id.eq(consent_grants::id))
            .filter(consent_ledger::event.eq(LedgerEvent::Expired.as_str()));
        let mut query = grants_query()
            .filter(consent_grants::expires_at.le(now))
            .filter(consent_revocations::grant_id.is_null())
            .filter(diesel::dsl::not(diesel::dsl::exists(recorded)))
            .order((consent_grants::expires_at, consent_grants::id))
            .select(grant_selection())
            .into_boxed();
        if let Some((clinic_id, patient_id)) = patient {
            query = query
                .filter(consent_grants::clinic_id.eq(clinic_id.0))
                .filter(consent_grants::patient_id.eq(patient_id.0));
        }
        let expired: Vec<GrantFields> = query
            .load(conn)
            .await?
            .into_iter()
            .map(grant_fields)
            .collect();

        let mut appended = 0;
        for grant in &expired {
            // Lock the grant so a concurrent sweep or revocation waits, then look again.
            if !lock_unrecorded_expiry(conn, grant.grant.id).await? {
                continue;
            }
            let Some(expires_at) = grant.grant.expires_at else {
                continue;
            };
            append(conn, grant, LedgerEvent::Expired, expires_at).await?;
            appended += 1;
        }
        Ok(appended)
    })
    .await
}

/// Locks a grant row and returns whether it is still unrevoked without an expiry entry.
async fn lock_unrecorded_expiry(
    conn: &mut AsyncPgConnection,
    grant_id: Uuid,
) -> Result<bool, ConsentError> {
    consent_grants::table
        .find(grant_id)
        .select(consent_grants::id)
        .for_update()
        .first::<Uuid>(conn)
        .await?;
    let revoked = consent_revocations::table
        .find(grant_id)
        .select(consent_revocations::grant_id)
        .first::<Uuid>(conn)
        .await
        .optional()?;
    let recorded = consent_ledger::table
        .filter(consent_ledger::grant_id.eq(grant_id))
        .filter(consent_ledger::event.eq(LedgerEvent::Expired.as_str()))
        .select(consent_ledger::id)
        .first::<Uuid>(conn)
        .await
        .optional()?;
    Ok(revoked.is_none() && recorded.is_none())
}

/// Locks a grant of the patient until the transaction ends and loads it.
pub(super) async fn lock_grant(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
    grant_id: ConsentGrantId,
) -> Result<GrantFields, ConsentError> {
    let locked: Option<Uuid> = consent_grants::table
        .filter(consent_grants::id.eq(grant_id.0))
        .filter(consent_grants::clinic_id.eq(clinic_id.0))
        .filter(consent_grants::patient_id.eq(patient_id.0))
        .select(consent_grants::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    if locked.is_none() {
        return Err(ConsentError::NotFound);
    }
    let row = grants_query()
        .filter(consent_grants::id.eq(grant_id.0))
        .select(grant_selection())
        .first(conn)
        .await?;
    Ok(grant_fields(row))
}
