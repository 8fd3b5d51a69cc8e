//! The admin's consent server functions: templates, their versions, and coverage counts. None
//! of them returns a grant's contents.

use leptos::prelude::*;

use super::{ConsentCoverage, TemplateSummary};
use crate::consent::ConsentKind;
use crate::error::AppError;
use crate::ids::{ConsentTemplateId, ConsentVersionId};

/// Lists the clinic's consent templates with their newest texts. Admins only.
#[server(prefix = "/api", endpoint = "admin/consent/templates")]
pub async fn list_consent_templates() -> Result<Vec<TemplateSummary>, AppError> {
    use crate::identity::Role;
    use crate::identity::server::auth;

    let services = crate::services::services()?;
    let admin = auth::require_any_role(&services, &[Role::Admin]).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let templates = crate::consent::list_templates(&mut conn, admin.clinic_id).await?;
    let newest = crate::consent::current_versions(&mut conn, admin.clinic_id).await?;
    Ok(templates
        .into_iter()
        .map(|template| TemplateSummary {
            body: newest
                .iter()
                .find(|version| version.template_id == template.id)
                .map(|version| version.body.clone()),
            id: template.id,
            kind: template.kind,
            title: template.title,
            current_version: template.current_version,
        })
        .collect())
}

/// Creates a consent template with its first text. Admins only; recorded as a consent change.
#[server(prefix = "/api", endpoint = "admin/consent/templates/create")]
pub async fn create_consent_template(
    kind: ConsentKind,
    title: String,
    body: String,
) -> Result<ConsentVersionId, AppError> {
    use crate::identity::Role;
    use crate::identity::server::auth;
    use diesel_async::AsyncConnection;

    let services = crate::services::services()?;
    let admin = auth::require_any_role(&services, &[Role::Admin]).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let admin = &admin;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let template =
            crate::consent::create_template(conn, admin.clinic_id, kind, &title, admin.id).await?;
        let version =
            crate::consent::add_template_version(conn, admin.clinic_id, template, &body, admin.id)
                .await?;
        record_change(conn, admin, "template_created", template, version).await?;
        Ok(version)
    })
    .await
}

/// Publishes a new version of a template's text. Patients are then asked to consent again;
/// their grants of older versions stay valid until their own expiry. Admins only.
#[server(prefix = "/api", endpoint = "admin/consent/templates/publish")]
pub async fn publish_consent_version(
    template_id: ConsentTemplateId,
    body: String,
) -> Result<ConsentVersionId, AppError> {
    use crate::identity::Role;
    use crate::identity::server::auth;
    use diesel_async::AsyncConnection;

    let services = crate::services::services()?;
    let admin = auth::require_any_role(&services, &[Role::Admin]).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let admin = &admin;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let version = crate::consent::add_template_version(
            conn,
            admin.clinic_id,
            template_id,
            &body,
            admin.id,
        )
        .await?;
        record_change(conn, admin, "version_published", template_id, version).await?;
        Ok(version)
    })
    .await
}

/// Counts, per template, the clinic's patients and those with an applying grant. Admins only.
#[server(prefix = "/api", endpoint = "admin/consent/coverage")]
pub async fn load_consent_coverage() -> Result<Vec<ConsentCoverage>, AppError> {
    use crate::identity::Role;
    use crate::identity::server::auth;

    let services = crate::services::services()?;
    let admin = auth::require_any_role(&services, &[Role::Admin]).await?;
    let mut conn = crate::db::connection(&services.pool).await?;
    let rows =
        crate::consent::coverage::coverage(&mut conn, admin.clinic_id, chrono::Utc::now()).await?;
    Ok(rows
        .into_iter()
        .map(|row| ConsentCoverage {
            template_id: row.template_id,
            kind: row.kind,
            title: row.title,
            current_version: row.current_version,
            patients: row.patients,
            consenting: row.consenting,
            consenting_current: row.consenting_current,
        })
        .collect())
}

/// Records an admin's change to a template as a `consent_changed` security event.
#[cfg(feature = "ssr")]
async fn record_change(
    conn: &mut diesel_async::AsyncPgConnection,
    admin: &crate::identity::server::auth::SignedInUser,
    action: &str,
    template: ConsentTemplateId,
    version: ConsentVersionId,
) -> Result<(), AppError> {
    use crate::audit::SecurityEventKind;
    use crate::identity::server::events::{self, Event};

    let event = Event {
        kind: SecurityEventKind::ConsentChanged,
        clinic_id: admin.clinic_id,
        actor: Some(admin.id),
        subject: None,
        detail: serde_json::json!({
            "action": action,
            "template_id": template,
            "version_id": version,
        }),
    };
    events::record(conn, event).await
}
