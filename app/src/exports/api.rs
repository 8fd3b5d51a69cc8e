//! Server functions of exports. Each one authorizes through the access policy, for every
//! category of the export, before it touches the queue or the record.

use leptos::prelude::*;

use super::{ExportBundle, ExportView};
use crate::access::DataCategory;
use crate::error::AppError;
use crate::ids::{ExportId, PatientId};

/// Asks for an export of a patient's record in `categories` to `recipient`, a party that her
/// data-sharing consent names. Clinicians on her care team, within their role's export
/// permission. The export is built in the background; see [`list_exports`].
#[server(prefix = "/api", endpoint = "exports/request")]
pub async fn request_export(
    patient_id: PatientId,
    recipient: String,
    purpose: String,
    categories: Vec<DataCategory>,
) -> Result<ExportView, AppError> {
    use super::lifecycle::{self, NewExport};

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let new = NewExport {
        patient: patient_id,
        recipient,
        purpose,
        categories,
    };
    let row = lifecycle::queue_export(&mut conn, &actor, &new).await?;
    Ok(server::view(row))
}

/// Lists the exports of a patient's record that the signed-in clinician asked for, newest
/// first. Audited as a read of the patient's care logistics.
#[server(prefix = "/api", endpoint = "exports/list")]
pub async fn list_exports(
    patient_id: PatientId,
    purpose: String,
) -> Result<Vec<ExportView>, AppError> {
    use crate::access::{Action, authorize, guard};

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let authorization = authorize(
        &mut conn,
        &actor,
        patient_id,
        DataCategory::CareLogistics,
        Action::Read,
        &purpose,
    )
    .await?;

    let rows = super::store::list_for_requester(&mut conn, actor.user, patient_id).await?;
    guard::record_allowed(&mut conn, &authorization, vec!["data_exports".to_owned()]).await?;
    Ok(rows.into_iter().map(server::view).collect())
}

/// Releases a ready export to the clinician who asked for it, once. The policy and the
/// patient's data-sharing consent are checked again now. If either denies it, the bundle is
/// deleted, the export is withheld, and the call fails with the same "not found" error as for an
/// unknown id.
#[server(prefix = "/api", endpoint = "exports/download")]
pub async fn download_export(export_id: ExportId) -> Result<ExportBundle, AppError> {
    use crate::records::RecordKeys;

    let (services, actor) = server::begin().await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let keys = RecordKeys::from_services(&services);
    super::lifecycle::release_export_at(&mut conn, keys, &actor, export_id, chrono::Utc::now())
        .await
}

#[cfg(feature = "ssr")]
mod server {
    use std::sync::Arc;

    use super::ExportView;
    use crate::access::Actor;
    use crate::error::AppError;
    use crate::exports::store::ExportRow;
    use crate::identity::server::auth;
    use crate::identity::support::timestamp;
    use crate::services::Services;

    /// Returns the services and the signed-in actor of the request, or 401.
    pub async fn begin() -> Result<(Arc<Services>, Actor), AppError> {
        let services = crate::services::services()?;
        let user = auth::require_user(&services).await?;
        Ok((services, Actor::from_signed_in(&user)))
    }

    pub fn view(row: ExportRow) -> ExportView {
        ExportView {
            id: row.id,
            patient_id: row.patient_id,
            recipient: row.recipient,
            purpose: row.purpose,
            categories: row.categories,
            status: row.status,
            requested_at: timestamp(row.requested_at),
            built_at: row.built_at.map(timestamp),
            released_at: row.released_at.map(timestamp),
            withheld_reason: row.withheld_reason,
        }
    }
}
