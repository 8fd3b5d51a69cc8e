//! The patient's consent server functions. Each acts only on the signed-in patient's own record
//! and records the access in the audit trail.

use leptos::prelude::*;

use super::{ConsentHistoryCheck, ConsentRecord, ConsentText, GrantRequest};
use crate::error::AppError;
use crate::identity::CeremonyOptions;
use crate::ids::{ConsentGrantId, ConsentVersionId};

/// Lists the newest text of each consent template of the patient's clinic, with whether she
/// signed it.
#[server(prefix = "/api", endpoint = "consent/texts")]
pub async fn list_consent_texts() -> Result<Vec<ConsentText>, AppError> {
    use crate::audit::AccessAction;
    use crate::consent::access::{own_record, record};
    use diesel_async::AsyncConnection;

    let services = crate::services::services()?;
    let own = &own_record(&services).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let texts = server::consent_texts(&mut conn, own).await?;

    conn.transaction::<_, AppError, _>(async move |conn| {
        record(conn, own, AccessAction::Read, "consent.status").await
    })
    .await?;
    Ok(texts)
}

/// Lists the patient's grants, newest first, after recording in the ledger any expiry that has
/// passed.
#[server(prefix = "/api", endpoint = "consent/mine")]
pub async fn list_my_consents() -> Result<Vec<ConsentRecord>, AppError> {
    use crate::audit::AccessAction;
    use crate::consent::access::{own_record, record};
    use diesel_async::AsyncConnection;

    let services = crate::services::services()?;
    let own = &own_record(&services).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let grants = server::my_consents(&services, &mut conn, own).await?;

    conn.transaction::<_, AppError, _>(async move |conn| {
        record(conn, own, AccessAction::Read, "consent.grants").await
    })
    .await?;
    Ok(grants)
}

/// Starts the passkey ceremony that signs the text of `version_id`, which must be the newest
/// version of its template.
#[server(prefix = "/api", endpoint = "consent/sign/begin")]
pub async fn begin_consent_signature(
    version_id: ConsentVersionId,
) -> Result<CeremonyOptions, AppError> {
    use crate::consent::access::own_record;

    let services = crate::services::services()?;
    let own = &own_record(&services).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let start = server::begin_signature(&services, &mut conn, own, version_id).await?;
    Ok(CeremonyOptions {
        ceremony_id: start.ceremony_id.to_string(),
        options: serde_json::to_string(&start.options)
            .map_err(crate::identity::server::accounts::internal)?,
    })
}

/// Verifies the passkey signature over the consent text and stores the grant with its ledger
/// entry. Takes JSON, so that empty lists and missing values keep their meaning.
#[server(prefix = "/api", endpoint = "consent/grant", input = server_fn::codec::Json)]
pub async fn grant_my_consent(request: GrantRequest) -> Result<ConsentGrantId, AppError> {
    use crate::consent::access::own_record;

    let services = crate::services::services()?;
    let own = &own_record(&services).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    server::grant(&services, &mut conn, own, request).await
}

/// Revokes one of the patient's grants at once. Another patient's grant id gets the same error
/// as a missing one.
#[server(prefix = "/api", endpoint = "consent/revoke")]
pub async fn revoke_my_consent(grant_id: String, reason: String) -> Result<(), AppError> {
    use crate::audit::AccessAction;
    use crate::consent::access::{own_record, record};
    use diesel_async::AsyncConnection;

    let services = crate::services::services()?;
    let own = &own_record(&services).await?;
    let grant_id = uuid::Uuid::parse_str(grant_id.trim())
        .map(ConsentGrantId)
        .map_err(|_| AppError::not_found())?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let keys = services.keys.clone();

    conn.transaction::<_, AppError, _>(async move |conn| {
        crate::consent::revoke_consent(
            conn,
            keys.as_ref(),
            own.user.clinic_id,
            own.patient,
            grant_id,
            own.user.id,
            &reason,
        )
        .await?;
        record(conn, own, AccessAction::Write, "consent.revocation").await
    })
    .await
}

/// Recomputes the patient's consent ledger and reports whether it is intact.
#[server(prefix = "/api", endpoint = "consent/verify")]
pub async fn verify_my_consent_history() -> Result<ConsentHistoryCheck, AppError> {
    use crate::audit::AccessAction;
    use crate::consent::access::{own_record, record};
    use diesel_async::AsyncConnection;

    let services = crate::services::services()?;
    let own = &own_record(&services).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let report =
        crate::consent::verify_patient_ledger(&mut conn, own.user.clinic_id, own.patient).await?;

    conn.transaction::<_, AppError, _>(async move |conn| {
        record(conn, own, AccessAction::Read, "consent.ledger").await
    })
    .await?;
    Ok(ConsentHistoryCheck {
        entries: report.chains.iter().map(|(_, _, entries)| entries).sum(),
        intact: report.is_intact(),
        problem: report.first_break().map(ToString::to_string),
    })
}

#[cfg(feature = "ssr")]
mod server;
