//! Identity events written to the tamper-evident audit trail.

use diesel_async::AsyncPgConnection;

use crate::audit::{ClientInfo, NewSecurityEvent, SecurityEventKind, record_security_event};
use crate::error::AppError;
use crate::identity::server::request::RequestMeta;
use crate::ids::{ClinicId, UserId};

/// An identity event: actor, subject, kind and detail. `record` adds the request's address,
/// user agent and id.
pub struct Event {
    pub kind: SecurityEventKind,
    pub clinic_id: ClinicId,
    pub actor: Option<UserId>,
    pub subject: Option<UserId>,
    /// A JSON object with non-personal context, such as a passkey id.
    pub detail: serde_json::Value,
}

/// Records an identity event. Call inside the transaction of the change it describes.
pub async fn record(connection: &mut AsyncPgConnection, event: Event) -> Result<(), AppError> {
    let meta = RequestMeta::current();
    record_security_event(
        connection,
        NewSecurityEvent {
            clinic_id: event.clinic_id,
            actor_user_id: event.actor,
            subject_user_id: event.subject,
            kind: event.kind,
            detail: event.detail,
            client: ClientInfo {
                address: meta.address,
                user_agent: meta.user_agent,
                request_id: meta.request_id,
            },
        },
    )
    .await
    .map_err(|error| {
        tracing::error!(%error, kind = event.kind.as_str(), "recording an identity event failed");
        AppError::internal()
    })?;
    Ok(())
}

/// Records one event in a transaction of its own, for events that accompany no other change.
pub async fn record_alone(
    connection: &mut AsyncPgConnection,
    event: Event,
) -> Result<(), AppError> {
    use diesel_async::AsyncConnection;

    connection
        .transaction::<_, AppError, _>(async move |connection| record(connection, event).await)
        .await
}
