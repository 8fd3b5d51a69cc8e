//! WebAuthn ceremony state, kept in PostgreSQL and consumed exactly once.
//!
//! The state never reaches the browser: the browser gets the ceremony's id, and finishing a
//! ceremony deletes its row before the response is verified, so a replayed or second answer
//! to the same challenge finds nothing.

use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::ids::UserId;
use crate::schema::webauthn_ceremonies;

/// Purpose of a ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Creating a passkey, from an invitation or from the security page.
    Registration,
    /// Sign-in after the user typed an email.
    Authentication,
    /// Sign-in with a discoverable passkey, no email typed.
    Discoverable,
    /// A fresh assertion by a signed-in user before a sensitive action.
    StepUp,
}

impl CeremonyKind {
    const ALL: [CeremonyKind; 4] = [
        CeremonyKind::Registration,
        CeremonyKind::Authentication,
        CeremonyKind::Discoverable,
        CeremonyKind::StepUp,
    ];

    fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Registration => "registration",
            CeremonyKind::Authentication => "authentication",
            CeremonyKind::Discoverable => "discoverable",
            CeremonyKind::StepUp => "step_up",
        }
    }
}

/// A ceremony taken out of storage.
pub struct Ceremony {
    pub kind: CeremonyKind,
    pub user_id: Option<UserId>,
    pub invitation_id: Option<Uuid>,
    pub state: serde_json::Value,
}

/// Stores a ceremony's state and returns the id the browser sends back.
pub async fn store(
    connection: &mut AsyncPgConnection,
    kind: CeremonyKind,
    user_id: Option<UserId>,
    invitation_id: Option<Uuid>,
    state: serde_json::Value,
    lifetime: Duration,
) -> Result<Uuid, diesel::result::Error> {
    let id = Uuid::new_v4();
    let expires_at = Utc::now() + chrono::Duration::from_std(lifetime).unwrap_or_default();
    diesel::insert_into(webauthn_ceremonies::table)
        .values((
            webauthn_ceremonies::id.eq(id),
            webauthn_ceremonies::kind.eq(kind.as_str()),
            webauthn_ceremonies::user_id.eq(user_id.map(|id| id.0)),
            webauthn_ceremonies::invitation_id.eq(invitation_id),
            webauthn_ceremonies::state.eq(state),
            webauthn_ceremonies::expires_at.eq(expires_at),
        ))
        .execute(connection)
        .await?;
    Ok(id)
}

/// Deletes and returns an unexpired ceremony of one of `kinds`; `None` if it was used, expired
/// or never existed. Call it outside any transaction, so that the deletion is kept even when the
/// response then fails verification.
pub async fn take(
    connection: &mut AsyncPgConnection,
    id: Uuid,
    kinds: &[CeremonyKind],
) -> Result<Option<Ceremony>, diesel::result::Error> {
    let kind_names: Vec<&str> = kinds.iter().map(|kind| kind.as_str()).collect();
    let row: Option<(String, Option<uuid::Uuid>, Option<Uuid>, serde_json::Value)> =
        diesel::delete(webauthn_ceremonies::table.filter(webauthn_ceremonies::id.eq(id)))
            .filter(webauthn_ceremonies::kind.eq_any(kind_names))
            .filter(webauthn_ceremonies::expires_at.gt(Utc::now()))
            .returning((
                webauthn_ceremonies::kind,
                webauthn_ceremonies::user_id,
                webauthn_ceremonies::invitation_id,
                webauthn_ceremonies::state,
            ))
            .get_result(connection)
            .await
            .optional()?;
    Ok(row.and_then(|(kind, user_id, invitation_id, state)| {
        Some(Ceremony {
            kind: CeremonyKind::parse(&kind)?,
            user_id: user_id.map(UserId),
            invitation_id,
            state,
        })
    }))
}

/// Deletes expired ceremonies; run periodically by the server.
pub async fn delete_expired(
    connection: &mut AsyncPgConnection,
) -> Result<usize, diesel::result::Error> {
    diesel::delete(
        webauthn_ceremonies::table.filter(webauthn_ceremonies::expires_at.le(Utc::now())),
    )
    .execute(connection)
    .await
}
