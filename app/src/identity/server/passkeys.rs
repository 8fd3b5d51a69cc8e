//! Stored passkeys: registration, lookup by credential id, counter checks and management.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;
use webauthn_rs::prelude::{AuthenticationResult, Passkey};

use crate::error::{AppError, ErrorCode};
use crate::identity::server::accounts::internal;
use crate::ids::UserId;
use crate::schema::passkeys;

/// A stored passkey with the user it belongs to.
pub struct StoredPasskey {
    pub id: Uuid,
    pub user_id: UserId,
    pub passkey: Passkey,
    pub sign_count: u32,
}

/// Stores a newly registered passkey. A credential id already registered, to this account or
/// any other, is rejected with `Conflict`.
pub async fn insert(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
    passkey: &Passkey,
    name: &str,
) -> Result<Uuid, AppError> {
    let id = Uuid::new_v4();
    let credential = serde_json::to_value(passkey).map_err(internal)?;
    let credential_id: &[u8] = passkey.cred_id().as_ref();
    let inserted = diesel::insert_into(passkeys::table)
        .values((
            passkeys::id.eq(id),
            passkeys::user_id.eq(user_id.0),
            passkeys::credential_id.eq(credential_id),
            passkeys::credential.eq(credential),
            passkeys::name.eq(name),
            passkeys::sign_count.eq(0_i64),
            passkeys::backup_eligible.eq(backup_flags(passkey).0),
            passkeys::backup_state.eq(backup_flags(passkey).1),
        ))
        .on_conflict(passkeys::credential_id)
        .do_nothing()
        .execute(connection)
        .await
        .map_err(internal)?;
    if inserted == 0 {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "This passkey is already registered. Use it to sign in, or create a new one.",
        ));
    }
    Ok(id)
}

/// Backup eligibility and backup state as the authenticator last reported them, read from the
/// passkey's serialised form.
fn backup_flags(passkey: &Passkey) -> (bool, bool) {
    let value = serde_json::to_value(passkey).unwrap_or_default();
    let flag = |name: &str| value["cred"][name].as_bool().unwrap_or(false);
    (flag("backup_eligible"), flag("backup_state"))
}

/// Makes the stored passkey's backup eligibility match what the authenticator now reports in
/// `authenticator_data`, so that an authenticator whose passkey became (or stopped being)
/// syncable can still sign in; the new flag is stored after the signature verifies. Returns
/// whether the flag changed.
pub fn align_backup_eligibility(passkey: &mut Passkey, authenticator_data: &[u8]) -> bool {
    // Flags byte after the 32-byte RP id hash; bit 3 is BE (WebAuthn Level 3, section 6.1).
    let Some(flags) = authenticator_data.get(32) else {
        return false;
    };
    let reported = flags & 0b0000_1000 != 0;
    if backup_flags(passkey).0 == reported {
        return false;
    }
    let Ok(mut value) = serde_json::to_value(&*passkey) else {
        return false;
    };
    value["cred"]["backup_eligible"] = serde_json::Value::Bool(reported);
    match serde_json::from_value(value) {
        Ok(updated) => {
            *passkey = updated;
            true
        }
        Err(_) => false,
    }
}

/// Checks a passkey name: 1 to 80 characters after trimming.
pub fn validate_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(AppError::invalid_input(
            "A passkey name must be 1 to 80 characters long, without control characters.",
        ));
    }
    Ok(name.to_owned())
}

pub async fn find_by_credential_id(
    connection: &mut AsyncPgConnection,
    credential_id: &[u8],
) -> Result<Option<StoredPasskey>, AppError> {
    let row: Option<(Uuid, Uuid, serde_json::Value, i64)> = passkeys::table
        .filter(passkeys::credential_id.eq(credential_id))
        .select((
            passkeys::id,
            passkeys::user_id,
            passkeys::credential,
            passkeys::sign_count,
        ))
        .first(connection)
        .await
        .optional()
        .map_err(internal)?;
    row.map(stored).transpose()
}

pub async fn for_user(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
) -> Result<Vec<StoredPasskey>, AppError> {
    let rows: Vec<(Uuid, Uuid, serde_json::Value, i64)> = passkeys::table
        .filter(passkeys::user_id.eq(user_id.0))
        .select((
            passkeys::id,
            passkeys::user_id,
            passkeys::credential,
            passkeys::sign_count,
        ))
        .load(connection)
        .await
        .map_err(internal)?;
    rows.into_iter().map(stored).collect()
}

fn stored(
    (id, user_id, credential, sign_count): (Uuid, Uuid, serde_json::Value, i64),
) -> Result<StoredPasskey, AppError> {
    Ok(StoredPasskey {
        id,
        user_id: UserId(user_id),
        passkey: serde_json::from_value(credential).map_err(internal)?,
        sign_count: u32::try_from(sign_count).unwrap_or(u32::MAX),
    })
}

/// Whether an assertion's signature counter is acceptable, following WebAuthn Level 3,
/// section 7.2, step 21: when either counter is non-zero, the new one must be greater than the
/// stored one; otherwise the authenticator may have been cloned.
pub fn counter_is_valid(stored: u32, received: u32) -> bool {
    (stored == 0 && received == 0) || received > stored
}

/// Records a successful assertion: the new counter, backup flags and the time of use. The
/// counter column has a trigger that refuses any decrease.
pub async fn record_use(
    connection: &mut AsyncPgConnection,
    stored: &mut StoredPasskey,
    result: &AuthenticationResult,
) -> Result<(), AppError> {
    stored.passkey.update_credential(result);
    let (backup_eligible, backup_state) = backup_flags(&stored.passkey);
    let credential = serde_json::to_value(&stored.passkey).map_err(internal)?;
    diesel::update(passkeys::table.find(stored.id))
        .set((
            passkeys::credential.eq(credential),
            passkeys::sign_count.eq(i64::from(result.counter().max(stored.sign_count))),
            passkeys::backup_eligible.eq(backup_eligible),
            passkeys::backup_state.eq(backup_state),
            passkeys::last_used_at.eq(Utc::now()),
        ))
        .execute(connection)
        .await
        .map_err(internal)?;
    Ok(())
}

/// A passkey as its owner sees it on the security page.
#[derive(Queryable)]
pub struct PasskeyListing {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub backed_up: bool,
}

pub async fn list(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
) -> Result<Vec<PasskeyListing>, AppError> {
    passkeys::table
        .filter(passkeys::user_id.eq(user_id.0))
        .order(passkeys::created_at.asc())
        .select((
            passkeys::id,
            passkeys::name,
            passkeys::created_at,
            passkeys::last_used_at,
            passkeys::backup_state,
        ))
        .load::<PasskeyListing>(connection)
        .await
        .map_err(internal)
}

pub async fn rename(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
    passkey_id: Uuid,
    name: &str,
) -> Result<(), AppError> {
    let updated = diesel::update(passkeys::table.find(passkey_id))
        .filter(passkeys::user_id.eq(user_id.0))
        .set(passkeys::name.eq(name))
        .execute(connection)
        .await
        .map_err(internal)?;
    if updated == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}

/// Removes a passkey unless it is the user's last one. Call inside a transaction: the user's
/// passkeys are locked so that two removals cannot leave her with none.
pub async fn remove(
    connection: &mut AsyncPgConnection,
    user_id: UserId,
    passkey_id: Uuid,
) -> Result<(), AppError> {
    let owned: Vec<Uuid> = passkeys::table
        .filter(passkeys::user_id.eq(user_id.0))
        .select(passkeys::id)
        .for_update()
        .load(connection)
        .await
        .map_err(internal)?;
    if !owned.contains(&passkey_id) {
        return Err(AppError::not_found());
    }
    if owned.len() == 1 {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "This is your only passkey. Add another passkey before removing this one.",
        ));
    }
    diesel::delete(passkeys::table.find(passkey_id))
        .execute(connection)
        .await
        .map_err(internal)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::counter_is_valid;

    #[test]
    fn counter_rules() {
        assert!(counter_is_valid(0, 0));
        assert!(counter_is_valid(0, 1));
        assert!(counter_is_valid(10, 11));
        assert!(!counter_is_valid(10, 7));
        assert!(!counter_is_valid(10, 10));
        assert!(!counter_is_valid(10, 0));
    }
}
