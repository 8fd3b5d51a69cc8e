//! Single-use invitation tokens. Only a SHA-256 hash of each token is stored.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::identity::Role;
use crate::ids::{ClinicId, UserId};
use crate::schema::invitations;

/// Purpose of an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationPurpose {
    /// First passkey of a new account.
    Enrollment,
    /// New passkey for a user who lost every passkey; using it ends all her sessions.
    Recovery,
}

impl InvitationPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationPurpose::Enrollment => "enrollment",
            InvitationPurpose::Recovery => "recovery",
        }
    }

    fn parse(value: &str) -> Self {
        if value == "recovery" {
            InvitationPurpose::Recovery
        } else {
            InvitationPurpose::Enrollment
        }
    }
}

/// A newly created invitation with its secret token, shown once.
pub struct IssuedInvitation {
    pub id: Uuid,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Creates an invitation for `user_id` and returns its token, which is not stored.
pub async fn create(
    connection: &mut AsyncPgConnection,
    clinic_id: ClinicId,
    user_id: UserId,
    purpose: InvitationPurpose,
    roles: &[Role],
    created_by: Option<UserId>,
    lifetime: Duration,
) -> Result<IssuedInvitation, diesel::result::Error> {
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    let token = URL_SAFE_NO_PAD.encode(secret);
    let id = Uuid::new_v4();
    let expires_at = Utc::now() + chrono::Duration::from_std(lifetime).unwrap_or_default();

    diesel::insert_into(invitations::table)
        .values((
            invitations::id.eq(id),
            invitations::clinic_id.eq(clinic_id.0),
            invitations::user_id.eq(user_id.0),
            invitations::purpose.eq(purpose.as_str()),
            invitations::token_hash.eq(token_hash(&token)),
            invitations::roles.eq(roles.iter().map(|role| role.as_str()).collect::<Vec<_>>()),
            invitations::created_by.eq(created_by.map(|id| id.0)),
            invitations::expires_at.eq(expires_at),
        ))
        .execute(connection)
        .await?;
    Ok(IssuedInvitation {
        id,
        token,
        expires_at,
    })
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// An invitation found by its token, with its state at the time of the lookup.
#[derive(Debug, Clone)]
pub struct FoundInvitation {
    pub id: Uuid,
    pub clinic_id: ClinicId,
    pub user_id: UserId,
    pub purpose: InvitationPurpose,
    pub expires_at: DateTime<Utc>,
    pub state: InvitationState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Open,
    Used,
    Revoked,
    Expired,
}

/// Looks an invitation up by its token; `None` for an unknown token. The row is locked until
/// the transaction ends, so two enrollments cannot both use it.
pub async fn find_by_token(
    connection: &mut AsyncPgConnection,
    token: &str,
) -> Result<Option<FoundInvitation>, diesel::result::Error> {
    let row: Option<Row> = invitations::table
        .filter(invitations::token_hash.eq(token_hash(token)))
        .select(COLUMNS)
        .for_update()
        .first(connection)
        .await
        .optional()?;
    Ok(row.map(found))
}

/// Looks an invitation up by its id, locking the row like [`find_by_token`].
pub async fn find_by_id(
    connection: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<FoundInvitation>, diesel::result::Error> {
    let row: Option<Row> = invitations::table
        .find(id)
        .select(COLUMNS)
        .for_update()
        .first(connection)
        .await
        .optional()?;
    Ok(row.map(found))
}

const COLUMNS: (
    invitations::id,
    invitations::clinic_id,
    invitations::user_id,
    invitations::purpose,
    invitations::expires_at,
    invitations::used_at,
    invitations::revoked_at,
) = (
    invitations::id,
    invitations::clinic_id,
    invitations::user_id,
    invitations::purpose,
    invitations::expires_at,
    invitations::used_at,
    invitations::revoked_at,
);

type Row = (
    Uuid,
    Uuid,
    Uuid,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn found(
    (id, clinic_id, user_id, purpose, expires_at, used_at, revoked_at): Row,
) -> FoundInvitation {
    let state = if used_at.is_some() {
        InvitationState::Used
    } else if revoked_at.is_some() {
        InvitationState::Revoked
    } else if expires_at <= Utc::now() {
        InvitationState::Expired
    } else {
        InvitationState::Open
    };
    FoundInvitation {
        id,
        clinic_id: ClinicId(clinic_id),
        user_id: UserId(user_id),
        purpose: InvitationPurpose::parse(&purpose),
        expires_at,
        state,
    }
}

/// Marks an open invitation used; returns false if it was no longer open.
pub async fn mark_used(
    connection: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<bool, diesel::result::Error> {
    let updated = diesel::update(invitations::table.filter(invitations::id.eq(id)))
        .filter(invitations::used_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(Utc::now()))
        .set(invitations::used_at.eq(Utc::now()))
        .execute(connection)
        .await?;
    Ok(updated == 1)
}

/// Revokes every open invitation of a user; returns how many were revoked.
pub async fn revoke_open_for_user(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
) -> Result<usize, diesel::result::Error> {
    diesel::update(invitations::table.filter(invitations::user_id.eq(user_id.0)))
        .filter(invitations::used_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .set(invitations::revoked_at.eq(Utc::now()))
        .execute(connection)
        .await
}
