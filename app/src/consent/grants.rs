//! Consent grants: signing, revoking and reading a patient's consents.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::hash::to_micros;
use super::ledger::{
    self, GrantFields, GrantRow, LedgerEvent, RevocationRow, SignatureRow, grant_fields,
};
use super::schema::{
    consent_grants, consent_revocations, consent_signatures, consent_template_versions,
    consent_templates,
};
use super::templates::{find_version, latest_version_number, parse_kind};
use super::{ConsentError, ConsentKind};
use crate::access::DataCategory;
use crate::access::policy::CareConsent;
use crate::crypto::KeyProvider;
use crate::identity::Role;
use crate::ids::{
    ClinicId, ConsentGrantId, ConsentTemplateId, ConsentVersionId, PatientId, UserId,
};
use crate::records::{SealedLocation, open_patient_values, seal_patient_value};

const TABLE: &str = "consent_grants";
const MAX_NAME_CHARS: usize = 200;
const MAX_PURPOSE_CHARS: usize = 500;
const MAX_PARTIES: usize = 20;
const MAX_REASON_CHARS: usize = 500;
const MAX_ASSERTION_CHARS: usize = 20_000;

/// Proof that the patient signed a consent text: the name she typed and a passkey assertion
/// whose challenge binds the text's hash. The caller verifies the assertion before it builds
/// this value. Its `Debug` output hides the name.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureEvidence {
    /// The full name the patient typed.
    pub signer_name: String,
    /// Id of the passkey credential that produced the assertion.
    pub credential_id: Vec<u8>,
    /// SHA-256 of the consent text that the assertion signs. It must equal the granted
    /// version's hash.
    pub text_hash: [u8; 32],
    /// The WebAuthn assertion as the JSON text the browser sent.
    pub assertion: String,
}

impl std::fmt::Debug for SignatureEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureEvidence")
            .field("credential_id_len", &self.credential_id.len())
            .finish_non_exhaustive()
    }
}

/// A consent to grant. `recipient_roles` admits care-team members in those roles;
/// `named_parties` names organisations or people outside the clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsentGrant {
    pub clinic_id: ClinicId,
    pub patient_id: PatientId,
    pub version_id: ConsentVersionId,
    pub categories: Vec<DataCategory>,
    pub recipient_roles: Vec<Role>,
    pub named_parties: Vec<String>,
    pub purpose: String,
    pub starts_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub signature: SignatureEvidence,
    /// Name of a person who witnessed the signature, if any.
    pub witness_name: Option<String>,
    /// The account that submitted the grant: the patient herself.
    pub granted_by: UserId,
}

/// A grant as shown to the patient, with the names and the reason decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentGrant {
    pub id: ConsentGrantId,
    pub template_id: ConsentTemplateId,
    pub version_id: ConsentVersionId,
    pub kind: ConsentKind,
    pub title: String,
    pub version: i32,
    pub categories: Vec<DataCategory>,
    pub recipient_roles: Vec<Role>,
    pub named_parties: Vec<String>,
    pub purpose: String,
    pub starts_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub signer_name: String,
    pub witness_name: Option<String>,
    pub granted_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revocation_reason: Option<String>,
}

impl ConsentGrant {
    /// Returns whether the grant applies at `at`: started, not expired and not revoked.
    pub fn is_active_at(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at
            && self.expires_at.is_none_or(|expiry| at < expiry)
            && self.revoked_at.is_none_or(|revoked| at < revoked)
    }
}

fn location(column: &'static str, grant_id: ConsentGrantId) -> SealedLocation {
    SealedLocation {
        table: TABLE,
        column,
        row_id: grant_id.0,
    }
}

fn invalid(message: impl Into<String>) -> ConsentError {
    ConsentError::InvalidInput(message.into())
}

fn check_text(value: &str, max: usize, field: &str) -> Result<(), ConsentError> {
    let length = value.trim().chars().count();
    if length == 0 || length > max || value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must be 1 to {max} characters without control characters"
        )));
    }
    Ok(())
}

/// Checks the scope of a grant against its template's kind: care coordination admits care-team
/// roles, research participation admits researchers, and data sharing needs named parties.
fn validate_scope(kind: ConsentKind, new: &NewConsentGrant) -> Result<(), ConsentError> {
    if new.categories.is_empty() {
        return Err(invalid("choose at least one data category"));
    }
    if new.named_parties.len() > MAX_PARTIES {
        return Err(invalid(format!("name at most {MAX_PARTIES} parties")));
    }
    for party in &new.named_parties {
        check_text(party, MAX_NAME_CHARS, "each named party")?;
    }
    match kind {
        ConsentKind::CareCoordination => {
            if new.recipient_roles.is_empty()
                || !new
                    .recipient_roles
                    .iter()
                    .all(|role| role.may_invite_patients())
            {
                return Err(invalid(
                    "choose at least one care-team role, and only care-team roles",
                ));
            }
            if !new.named_parties.is_empty() {
                return Err(invalid(
                    "a care-coordination consent names no outside parties",
                ));
            }
        }
        ConsentKind::ResearchParticipation => {
            if new.recipient_roles != [Role::Researcher] || !new.named_parties.is_empty() {
                return Err(invalid("a research consent admits researchers only"));
            }
        }
        ConsentKind::DataSharing => {
            if new.named_parties.is_empty() || !new.recipient_roles.is_empty() {
                return Err(invalid(
                    "a data-sharing consent names at least one party and no roles",
                ));
            }
        }
    }
    Ok(())
}

fn validate(new: &NewConsentGrant) -> Result<(), ConsentError> {
    check_text(&new.purpose, MAX_PURPOSE_CHARS, "the purpose")?;
    check_text(
        &new.signature.signer_name,
        MAX_NAME_CHARS,
        "the signer's full name",
    )?;
    if let Some(witness) = &new.witness_name {
        check_text(witness, MAX_NAME_CHARS, "the witness's name")?;
    }
    if new.expires_at.is_some_and(|expiry| expiry <= new.starts_at) {
        return Err(invalid("the expiry must be after the start"));
    }
    if new.signature.credential_id.is_empty() || new.signature.credential_id.len() > 1023 {
        return Err(invalid("the passkey credential id is missing or too long"));
    }
    let assertion_length = new.signature.assertion.chars().count();
    if !(2..=MAX_ASSERTION_CHARS).contains(&assertion_length) {
        return Err(invalid("the passkey assertion is missing or too long"));
    }
    Ok(())
}

/// Sorts and deduplicates stored names, so equal scopes are stored alike.
fn names<T: Copy + Ord>(values: &[T], name: fn(T) -> &'static str) -> Vec<String> {
    let mut values = values.to_vec();
    values.sort();
    values.dedup();
    values
        .into_iter()
        .map(|value| name(value).to_owned())
        .collect()
}

fn corrupt(column: &str) -> ConsentError {
    ConsentError::Database(diesel::result::Error::DeserializationError(
        format!("consent_grants.{column} holds an unknown name").into(),
    ))
}

fn parse_all<T>(
    values: &[String],
    parse: fn(&str) -> Option<T>,
    column: &str,
) -> Result<Vec<T>, ConsentError> {
    values
        .iter()
        .map(|value| parse(value).ok_or_else(|| corrupt(column)))
        .collect()
}

/// Stores a signed grant and appends its ledger entry, in one transaction.
///
/// The signature must cover the text of `new.version_id`, which must be its template's newest
/// version; otherwise it fails with [`ConsentError::SignatureMismatch`] or
/// [`ConsentError::Conflict`]. The signer's and witness's names are encrypted under the
/// patient's data key. Fails with [`ConsentError::NotFound`] for a version or patient outside
/// `new.clinic_id`.
pub async fn grant_consent(
    conn: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    new: &NewConsentGrant,
) -> Result<ConsentGrantId, ConsentError> {
    validate(new)?;
    let grant_id = ConsentGrantId::new_random();

    conn.transaction::<_, ConsentError, _>(async move |conn| {
        let version = find_version(conn, new.clinic_id, new.version_id).await?;
        validate_scope(version.kind, new)?;
        if version.text_hash != new.signature.text_hash {
            return Err(ConsentError::SignatureMismatch);
        }
        if latest_version_number(conn, version.template_id).await? != version.version {
            return Err(ConsentError::Conflict(
                "A newer version of this consent exists. Read it and sign that one.".to_owned(),
            ));
        }

        let (signer, data_key_version) = seal_patient_value(
            conn,
            keys,
            new.clinic_id,
            new.patient_id,
            location("signer_name_ciphertext", grant_id),
            new.signature.signer_name.trim(),
        )
        .await?;
        let witness = match &new.witness_name {
            Some(name) => Some(
                seal_patient_value(
                    conn,
                    keys,
                    new.clinic_id,
                    new.patient_id,
                    location("witness_name_ciphertext", grant_id),
                    name.trim(),
                )
                .await?
                .0,
            ),
            None => None,
        };

        let grant = GrantRow {
            id: grant_id.0,
            clinic_id: new.clinic_id.0,
            patient_id: new.patient_id.0,
            template_version_id: version.id.0,
            data_categories: names(&new.categories, DataCategory::as_str),
            recipient_roles: names(&new.recipient_roles, Role::as_str),
            named_parties: new
                .named_parties
                .iter()
                .map(|party| party.trim().to_owned())
                .collect(),
            purpose: new.purpose.trim().to_owned(),
            starts_at: to_micros(new.starts_at),
            expires_at: new.expires_at.map(to_micros),
            granted_by: new.granted_by.0,
            granted_at: to_micros(Utc::now()),
        };
        let signature = SignatureRow {
            grant_id: grant_id.0,
            data_key_version,
            signer_name_ciphertext: signer,
            witness_name_ciphertext: witness,
            credential_id: new.signature.credential_id.clone(),
            signed_text_hash: new.signature.text_hash.to_vec(),
            assertion: new.signature.assertion.clone(),
        };
        diesel::insert_into(consent_grants::table)
            .values(&grant)
            .execute(conn)
            .await?;
        diesel::insert_into(consent_signatures::table)
            .values(&signature)
            .execute(conn)
            .await?;
        let fields = GrantFields {
            grant,
            signature,
            revocation: None,
        };
        let starts_at = fields.grant.starts_at;
        ledger::append(conn, &fields, LedgerEvent::Granted, starts_at).await?;
        Ok(grant_id)
    })
    .await
}

/// Revokes a grant of the patient at the current instant and appends the revocation to the
/// ledger, in one transaction. From that instant the grant no longer applies to any request.
///
/// Fails with [`ConsentError::NotFound`] for a grant of another patient or clinic, and with
/// [`ConsentError::Conflict`] for a grant already revoked or expired. The reason is encrypted
/// under the patient's data key.
pub async fn revoke_consent(
    conn: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    clinic_id: ClinicId,
    patient_id: PatientId,
    grant_id: ConsentGrantId,
    revoked_by: UserId,
    reason: &str,
) -> Result<DateTime<Utc>, ConsentError> {
    check_text(reason, MAX_REASON_CHARS, "the reason")?;

    conn.transaction::<_, ConsentError, _>(async move |conn| {
        let mut grant = ledger::lock_grant(conn, clinic_id, patient_id, grant_id).await?;
        let now = to_micros(Utc::now());
        if grant.revocation.is_some() {
            return Err(ConsentError::Conflict(
                "This consent is already revoked.".to_owned(),
            ));
        }
        if grant.grant.expires_at.is_some_and(|expiry| expiry <= now) {
            return Err(ConsentError::Conflict(
                "This consent has already expired.".to_owned(),
            ));
        }

        let (reason, data_key_version) = seal_patient_value(
            conn,
            keys,
            clinic_id,
            patient_id,
            location("revocation_reason_ciphertext", grant_id),
            reason.trim(),
        )
        .await?;
        let revocation = RevocationRow {
            grant_id: grant_id.0,
            revoked_at: now,
            revoked_by: revoked_by.0,
            data_key_version,
            reason_ciphertext: reason,
        };
        diesel::insert_into(consent_revocations::table)
            .values(&revocation)
            .execute(conn)
            .await?;
        grant.revocation = Some(revocation);
        ledger::append(conn, &grant, LedgerEvent::Revoked, now).await?;
        Ok(now)
    })
    .await
}

/// Returns every care-coordination grant of the patient, including revoked and expired ones
/// with their instants, because the access policy decides by the request's instant.
pub async fn care_consents(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patient: PatientId,
) -> Result<Vec<CareConsent>, ConsentError> {
    let mut consents = patients_care_consents(conn, clinic, &[patient]).await?;
    Ok(consents.remove(&patient).unwrap_or_default())
}

/// Returns [`care_consents`] of each of `patients`, patients of `clinic`, in one query. A
/// patient without any care consent is left out.
pub async fn patients_care_consents(
    conn: &mut AsyncPgConnection,
    clinic: ClinicId,
    patients: &[PatientId],
) -> Result<HashMap<PatientId, Vec<CareConsent>>, ConsentError> {
    type Row = (
        uuid::Uuid,
        Vec<String>,
        Vec<String>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    // The clinic lets PostgreSQL use the grants' index by clinic and patient instead of reading
    // every clinic's grants. The authorization of one record looks up one patient, compared by
    // equality. Each connection plans a statement once for all parameters (a generic plan), and
    // the generic plan of `= ANY` read every grant of the clinic to find that one patient's.
    let query = consent_grants::table
        .inner_join(consent_template_versions::table.inner_join(consent_templates::table))
        .left_join(consent_revocations::table)
        .filter(consent_grants::clinic_id.eq(clinic.0))
        .filter(consent_templates::kind.eq(ConsentKind::CareCoordination.as_str()))
        .into_boxed();
    let query = match patients {
        [patient] => query.filter(consent_grants::patient_id.eq(patient.0)),
        _ => {
            let ids: Vec<uuid::Uuid> = patients.iter().map(|patient| patient.0).collect();
            query.filter(consent_grants::patient_id.eq_any(ids))
        }
    };
    let rows: Vec<Row> = query
        .order((consent_grants::granted_at, consent_grants::id))
        .select((
            consent_grants::patient_id,
            consent_grants::data_categories,
            consent_grants::recipient_roles,
            consent_grants::starts_at,
            consent_grants::expires_at,
            consent_revocations::revoked_at.nullable(),
        ))
        .load(conn)
        .await?;
    let mut consents: HashMap<PatientId, Vec<CareConsent>> = HashMap::new();
    for (patient, categories, roles, starts_at, expires_at, revoked_at) in rows {
        consents
            .entry(PatientId(patient))
            .or_default()
            .push(CareConsent {
                categories: parse_all(&categories, DataCategory::parse, "data_categories")?,
                roles: parse_all(&roles, Role::parse, "recipient_roles")?,
                starts_at,
                expires_at,
                revoked_at,
            });
    }
    Ok(consents)
}

/// Lists every grant of the patient, newest first, with the signer's and witness's names and
/// the revocation reason decrypted.
pub async fn list_patient_grants(
    conn: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    clinic_id: ClinicId,
    patient_id: PatientId,
) -> Result<Vec<ConsentGrant>, ConsentError> {
    type Row = (
        GrantRow,
        SignatureRow,
        Option<RevocationRow>,
        uuid::Uuid,
        String,
        String,
        i32,
    );
    let rows: Vec<Row> = consent_grants::table
        .inner_join(consent_signatures::table)
        .left_join(consent_revocations::table)
        .inner_join(consent_template_versions::table.inner_join(consent_templates::table))
        .filter(consent_grants::clinic_id.eq(clinic_id.0))
        .filter(consent_grants::patient_id.eq(patient_id.0))
        .order((consent_grants::granted_at.desc(), consent_grants::id))
        .select((
            GrantRow::as_select(),
            SignatureRow::as_select(),
            <Option<RevocationRow>>::as_select(),
            consent_template_versions::template_id,
            consent_templates::kind,
            consent_templates::title,
            consent_template_versions::version,
        ))
        .load(conn)
        .await?;

    let mut grants = Vec::with_capacity(rows.len());
    for (grant, signature, revocation, template_id, kind, title, version) in rows {
        let fields = grant_fields((grant, signature, revocation));
        let template = Template {
            id: ConsentTemplateId(template_id),
            kind: parse_kind(&kind)?,
            title,
            version,
        };
        grants.push(open_grant(conn, keys, fields, template).await?);
    }
    Ok(grants)
}

/// The template and version a grant signed.
struct Template {
    id: ConsentTemplateId,
    kind: ConsentKind,
    title: String,
    version: i32,
}

async fn open_grant(
    conn: &mut AsyncPgConnection,
    keys: &dyn KeyProvider,
    fields: GrantFields,
    template: Template,
) -> Result<ConsentGrant, ConsentError> {
    let GrantFields {
        grant,
        signature,
        revocation,
    } = fields;
    let grant_id = ConsentGrantId(grant.id);
    let mut sealed = vec![(
        location("signer_name_ciphertext", grant_id),
        signature.signer_name_ciphertext.as_slice(),
    )];
    if let Some(witness) = &signature.witness_name_ciphertext {
        sealed.push((
            location("witness_name_ciphertext", grant_id),
            witness.as_slice(),
        ));
    }
    if let Some(revocation) = &revocation {
        sealed.push((
            location("revocation_reason_ciphertext", grant_id),
            revocation.reason_ciphertext.as_slice(),
        ));
    }
    let mut opened = open_patient_values(
        conn,
        keys,
        ClinicId(grant.clinic_id),
        PatientId(grant.patient_id),
        &sealed,
    )
    .await?
    .into_iter();
    // The values come back in the order they were pushed above.
    let signer_name = opened.next().unwrap_or_default();
    let witness_name = match signature.witness_name_ciphertext {
        Some(_) => opened.next(),
        None => None,
    };
    let revocation_reason = match revocation {
        Some(_) => opened.next(),
        None => None,
    };

    Ok(ConsentGrant {
        id: grant_id,
        template_id: template.id,
        version_id: ConsentVersionId(grant.template_version_id),
        kind: template.kind,
        title: template.title,
        version: template.version,
        categories: parse_all(
            &grant.data_categories,
            DataCategory::parse,
            "data_categories",
        )?,
        recipient_roles: parse_all(&grant.recipient_roles, Role::parse, "recipient_roles")?,
        named_parties: grant.named_parties,
        purpose: grant.purpose,
        starts_at: grant.starts_at,
        expires_at: grant.expires_at,
        signer_name,
        witness_name,
        granted_at: grant.granted_at,
        revoked_at: revocation.as_ref().map(|revocation| revocation.revoked_at),
        revocation_reason,
    })
}

/// Returns the template and version number of every grant of the patient that applies at
/// `at`: started, not expired and not revoked.
pub async fn applying_versions(
    conn: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    patient_id: PatientId,
    at: DateTime<Utc>,
) -> Result<Vec<(ConsentTemplateId, i32)>, ConsentError> {
    let rows: Vec<(uuid::Uuid, i32)> = consent_grants::table
        .inner_join(consent_template_versions::table)
        .left_join(consent_revocations::table)
        .filter(consent_grants::clinic_id.eq(clinic_id.0))
        .filter(consent_grants::patient_id.eq(patient_id.0))
        .filter(consent_grants::starts_at.le(at))
        .filter(
            consent_grants::expires_at
                .is_null()
                .or(consent_grants::expires_at.gt(at)),
        )
        .filter(
            consent_revocations::revoked_at
                .is_null()
                .or(consent_revocations::revoked_at.gt(at)),
        )
        .select((
            consent_template_versions::template_id,
            consent_template_versions::version,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(template, version)| (ConsentTemplateId(template), version))
        .collect())
}
