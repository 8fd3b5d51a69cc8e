//! Listing and ending a user's sessions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

use crate::audit::SecurityEventKind;
use crate::error::AppError;
use crate::identity::SessionSummary;
use crate::identity::api::support::timestamp;
use crate::identity::server::accounts::internal;
use crate::identity::server::auth::SignedInUser;
use crate::identity::server::events::{self, Event};
use crate::ids::UserId;
use crate::schema::sessions;

/// Returns a name for a session that does not reveal its id, which is the cookie value.
pub fn handle_of(session_id: &str) -> String {
    Sha256::digest(session_id.as_bytes())
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Describes the browser and system of a user agent briefly, such as "Chrome on Linux".
pub fn describe_device(user_agent: Option<&str>) -> String {
    let Some(agent) = user_agent else {
        return "Unknown device".to_owned();
    };
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(marker, _)| agent.contains(marker))
    .map_or("Browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(marker, _)| agent.contains(marker))
    .map_or("unknown system", |(_, name)| name);
    format!("{browser} on {system}")
}

pub async fn list(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
    current_id: Option<&str>,
) -> Result<Vec<SessionSummary>, AppError> {
    #[derive(Queryable)]
    struct Row {
        id: String,
        user_agent: Option<String>,
        created_at: DateTime<Utc>,
        last_seen_at: DateTime<Utc>,
    }

    let rows: Vec<Row> = sessions::table
        .filter(sessions::user_id.eq(user_id.0))
        .filter(sessions::expires_at.gt(Utc::now()))
        .order(sessions::last_seen_at.desc())
        .select((
            sessions::id,
            sessions::user_agent,
            sessions::created_at,
            sessions::last_seen_at,
        ))
        .load(connection)
        .await
        .map_err(internal)?;
    Ok(rows
        .into_iter()
        .map(|row| SessionSummary {
            handle: handle_of(&row.id),
            device: describe_device(row.user_agent.as_deref()),
            signed_in_at: timestamp(row.created_at),
            last_seen_at: timestamp(row.last_seen_at),
            current: current_id == Some(row.id.as_str()),
        })
        .collect())
}

/// Deletes the user's session whose handle is `handle`; another user's session is never found.
pub async fn end_by_handle(
    connection: &mut AsyncPgConnection,
    user: &SignedInUser,
    handle: &str,
) -> Result<(), AppError> {
    let deleted = diesel::sql_query(
        "DELETE FROM sessions WHERE user_id = $1 \
         AND left(encode(sha256(convert_to(id, 'UTF8')), 'hex'), 32) = $2",
    )
    .bind::<SqlUuid, _>(user.id.0)
    .bind::<Text, _>(handle)
    .execute(connection)
    .await
    .map_err(internal)?;
    if deleted == 0 {
        return Err(AppError::not_found());
    }
    let event = Event {
        kind: SecurityEventKind::SessionEnded,
        clinic_id: user.clinic_id,
        actor: Some(user.id),
        subject: Some(user.id),
        detail: serde_json::json!({ "reason": "ended_by_user" }),
    };
    events::record_alone(connection, event).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_descriptions() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
        assert_eq!(describe_device(Some(chrome)), "Chrome on Linux");
        assert_eq!(describe_device(None), "Unknown device");
    }

    #[test]
    fn handle_is_stable_and_short() {
        assert_eq!(handle_of("abc"), handle_of("abc"));
        assert_eq!(handle_of("abc").len(), 32);
        assert_ne!(handle_of("abc"), handle_of("abd"));
    }
}
