//! Server-side bodies of the patient's consent functions.

use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::super::{ConsentRecord, ConsentStatus, ConsentText, GrantRequest};
use crate::audit::AccessAction;
use crate::consent::access::{OwnRecord, record};
use crate::consent::signature::{self, SignatureStart};
use crate::consent::{self, ConsentGrant, ConsentVersion, NewConsentGrant, SignatureEvidence};
use crate::error::AppError;
use crate::ids::{ConsentGrantId, ConsentVersionId};
use crate::services::Services;

fn timestamp(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn status(grant: &ConsentGrant, now: DateTime<Utc>) -> ConsentStatus {
    if grant.revoked_at.is_some_and(|revoked| revoked <= now) {
        ConsentStatus::Revoked
    } else if grant.expires_at.is_some_and(|expiry| expiry <= now) {
        ConsentStatus::Expired
    } else if grant.starts_at > now {
        ConsentStatus::Scheduled
    } else {
        ConsentStatus::Active
    }
}

/// Returns the newest text of each template, marked with the patient's applying grants.
pub async fn consent_texts(
    conn: &mut AsyncPgConnection,
    own: &OwnRecord,
) -> Result<Vec<ConsentText>, AppError> {
    let versions = consent::current_versions(conn, own.user.clinic_id).await?;
    let applying =
        consent::applying_versions(conn, own.user.clinic_id, own.patient, Utc::now()).await?;
    Ok(versions
        .into_iter()
        .map(|version| {
            let signed = applying.contains(&(version.template_id, version.version));
            let older = applying.iter().any(|(template, number)| {
                *template == version.template_id && *number < version.version
            });
            ConsentText {
                version_id: version.id,
                kind: version.kind,
                title: version.title,
                version: version.version,
                text_hash: hex(&version.text_hash),
                body: version.body,
                signed,
                reconsent_needed: older && !signed,
            }
        })
        .collect())
}

/// Returns the patient's grants after appending any expiry that has passed to her ledger.
pub async fn my_consents(
    services: &Services,
    conn: &mut AsyncPgConnection,
    own: &OwnRecord,
) -> Result<Vec<ConsentRecord>, AppError> {
    let now = Utc::now();
    consent::record_expiries(conn, Some((own.user.clinic_id, own.patient)), now).await?;
    let newest: Vec<ConsentVersion> = consent::current_versions(conn, own.user.clinic_id).await?;
    let grants = consent::list_patient_grants(
        conn,
        services.keys.as_ref(),
        own.user.clinic_id,
        own.patient,
    )
    .await?;
    Ok(grants
        .into_iter()
        .map(|grant| {
            let superseded = newest.iter().any(|version| {
                version.template_id == grant.template_id && version.version > grant.version
            });
            ConsentRecord {
                id: grant.id,
                kind: grant.kind,
                title: grant.title.clone(),
                version: grant.version,
                superseded,
                status: status(&grant, now),
                categories: grant.categories,
                recipient_roles: grant.recipient_roles,
                named_parties: grant.named_parties,
                purpose: grant.purpose,
                starts_at: timestamp(grant.starts_at),
                expires_at: grant.expires_at.map(timestamp),
                signer_name: grant.signer_name,
                witness_name: grant.witness_name,
                granted_at: timestamp(grant.granted_at),
                revoked_at: grant.revoked_at.map(timestamp),
                revocation_reason: grant.revocation_reason,
            }
        })
        .collect())
}

/// Loads a version of the patient's clinic and fails unless it is its template's newest.
async fn current_version(
    conn: &mut AsyncPgConnection,
    own: &OwnRecord,
    version_id: ConsentVersionId,
) -> Result<ConsentVersion, AppError> {
    let version = consent::find_version(conn, own.user.clinic_id, version_id).await?;
    let newest = consent::current_versions(conn, own.user.clinic_id).await?;
    if !newest.iter().any(|current| current.id == version.id) {
        return Err(AppError::new(
            crate::error::ErrorCode::Conflict,
            "A newer version of this consent exists. Reload the page to read it.",
        ));
    }
    Ok(version)
}

pub async fn begin_signature(
    services: &Services,
    conn: &mut AsyncPgConnection,
    own: &OwnRecord,
    version_id: ConsentVersionId,
) -> Result<SignatureStart, AppError> {
    let version = current_version(conn, own, version_id).await?;
    let start = signature::begin_signature(services, conn, own.user.id, &version).await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        record(conn, own, AccessAction::Write, "consent.signature").await
    })
    .await?;
    Ok(start)
}

/// Parses the last day a consent applies; it expires at the following midnight UTC.
fn expiry(expires_on: Option<&str>) -> Result<Option<DateTime<Utc>>, AppError> {
    let Some(text) = expires_on.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| AppError::invalid_input("Enter the expiry date as YYYY-MM-DD."))?;
    let expires_at = day
        .succ_opt()
        .and_then(|next| next.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .ok_or_else(|| AppError::invalid_input("Enter an expiry date before the year 9999."))?;
    if expires_at <= Utc::now() {
        return Err(AppError::invalid_input(
            "Choose an expiry date from today onwards, or leave it empty.",
        ));
    }
    Ok(Some(expires_at))
}

/// Verifies the signature, then stores the grant, its ledger entry and the audit event in one
/// transaction.
pub async fn grant(
    services: &Services,
    conn: &mut AsyncPgConnection,
    own: &OwnRecord,
    request: GrantRequest,
) -> Result<ConsentGrantId, AppError> {
    let expires_at = expiry(request.expires_on.as_deref())?;
    let ceremony_id = uuid::Uuid::parse_str(request.ceremony_id.trim())
        .map_err(|_| signature::signature_not_verified())?;
    let version = current_version(conn, own, request.version_id).await?;
    let verified = signature::verify_signature(
        services,
        conn,
        own.user.id,
        ceremony_id,
        &version,
        &request.credential,
    )
    .await?;

    let new = NewConsentGrant {
        clinic_id: own.user.clinic_id,
        patient_id: own.patient,
        version_id: version.id,
        categories: request.categories,
        recipient_roles: request.recipient_roles,
        named_parties: request.named_parties,
        purpose: request.purpose,
        starts_at: Utc::now(),
        expires_at,
        signature: SignatureEvidence {
            signer_name: request.signer_name,
            credential_id: verified.credential_id,
            text_hash: version.text_hash,
            assertion: verified.assertion,
        },
        witness_name: request.witness_name.filter(|name| !name.trim().is_empty()),
        granted_by: own.user.id,
    };
    let keys = services.keys.clone();
    conn.transaction::<_, AppError, _>(async move |conn| {
        let grant_id = consent::grant_consent(conn, keys.as_ref(), &new).await?;
        record(conn, own, AccessAction::Write, "consent.grant").await?;
        Ok(grant_id)
    })
    .await
}
